-- $1 text  stream_uuid, or '$all'
-- $2 bigint  a position in that stream (a subscription's checkpoint)
-- When the first event after the position was written: how far behind a subscription is, in
-- time. A stream's position may hold an event of its own or a link to another's.
SELECT created_at FROM (
  (SELECT global_position AS position, created_at FROM {schema}.events
   WHERE $1 = '$all' AND global_position > $2 ORDER BY global_position LIMIT 1)
  UNION ALL
  (SELECT e.stream_version, e.created_at FROM {schema}.streams AS s JOIN {schema}.events AS e ON e.stream_id = s.stream_id
   WHERE $1 <> '$all' AND s.stream_uuid = $1 AND e.stream_version > $2 ORDER BY e.stream_version LIMIT 1)
  UNION ALL
  (SELECT l.stream_version, e.created_at FROM {schema}.streams AS s JOIN {schema}.links AS l ON l.stream_id = s.stream_id
   JOIN {schema}.events AS e ON e.global_position = l.global_position
   WHERE $1 <> '$all' AND s.stream_uuid = $1 AND l.stream_version > $2 ORDER BY l.stream_version LIMIT 1)
) AS first_after
ORDER BY position LIMIT 1
