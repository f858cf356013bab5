-- $1 text    stream_uuid
-- $2 bigint  first version to read
-- $3 int     most events to read
-- No row when the stream does not exist; one row of NULL events when it has none from $2;
-- else one row per event. data and metadata come as text, so the reader worker can pass
-- them on without parsing them, and created_at as epoch milliseconds (see lib/storage/read.ts),
-- computed in float8 from the time cut to the millisecond: exact, and cheaper than numeric
-- extract(epoch …).
-- No outer ORDER BY: with one row of s, the nested loop returns the lateral subquery's rows
-- in its order. An outer ORDER BY made PostgreSQL sort the whole page before sending its
-- first row (benchmarks/README.md). runRead checks the order (inReadOrder).
SELECT r.event_number, r.event_id,
       CASE WHEN r.stream_id = s.stream_id THEN s.stream_uuid
            ELSE (SELECT o.stream_uuid FROM {schema}.streams AS o WHERE o.stream_id = r.stream_id) END AS stream_uuid,
       r.stream_version, r.event_type, r.data::text AS data, r.metadata::text AS metadata,
       r.causation_id, r.correlation_id,
       (date_part('epoch', date_trunc('milliseconds', r.created_at)) * 1000)::bigint AS created_at,
       s.deleted_at IS NOT NULL AS deleted
FROM {schema}.streams AS s
LEFT JOIN LATERAL (
  (SELECT e.stream_version AS event_number, e.* FROM {schema}.events AS e
   WHERE e.stream_id = s.stream_id AND e.stream_version >= $2
   ORDER BY e.stream_version LIMIT $3)
  UNION ALL
  (SELECT l.stream_version, e.* FROM {schema}.links AS l JOIN {schema}.events AS e ON e.global_position = l.global_position
   WHERE l.stream_id = s.stream_id AND l.stream_version >= $2
   ORDER BY l.stream_version LIMIT $3)
  ORDER BY event_number LIMIT $3
) AS r ON true
WHERE s.stream_uuid = $1
