-- Lets this transaction, and only it, delete events (see refuse_event_changes in 0001).
SELECT set_config('pg_eventstore.hard_delete', 'on', true)
