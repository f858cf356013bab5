-- $1 uuid[]  event ids a write batch names: ids given to appends, events to link
SELECT event_id, global_position, stream_id
FROM {schema}.events
WHERE event_id = ANY($1::uuid[])
