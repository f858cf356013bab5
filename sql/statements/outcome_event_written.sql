-- Whether an event of a write whose outcome was unknown is stored.
-- $1 uuid  one event id the write held
SELECT EXISTS (SELECT 1 FROM {schema}.events WHERE event_id = $1::uuid) AS written
