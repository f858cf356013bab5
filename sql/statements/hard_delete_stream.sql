-- $1 bigint  stream_id
-- Removes the stream, its events, and every link to them or in it (links cascade). The
-- immutability triggers allow it only because the caller set pg_eventstore.hard_delete for
-- this transaction; $all keeps a gap where the events were.
WITH removed_events AS (
  DELETE FROM {schema}.events WHERE stream_id = $1
)
DELETE FROM {schema}.streams WHERE stream_id = $1
