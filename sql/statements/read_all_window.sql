-- $1 bigint  first global position to read
-- $2 bigint  last global position to read
-- $3 int     most events to read
-- One row per event, or one row of NULL events when the range holds none; each row ends
-- with `last`, the last position committed as this statement's snapshot sees it ($all's
-- version), so the reader learns where $all ends without a second query.
-- data and metadata come as text, created_at as epoch milliseconds; no outer ORDER BY (all as
-- in read_stream_forward.sql).
SELECT w.event_number, w.event_id, w.stream_uuid, w.stream_version, w.event_type,
       w.data, w.metadata, w.causation_id, w.correlation_id, w.created_at,
       a.stream_version AS last
FROM {schema}.streams AS a
LEFT JOIN LATERAL (
  SELECT e.global_position AS event_number, e.event_id, s.stream_uuid, e.stream_version, e.event_type,
         e.data::text AS data, e.metadata::text AS metadata, e.causation_id, e.correlation_id,
         (date_part('epoch', date_trunc('milliseconds', e.created_at)) * 1000)::bigint AS created_at
  FROM {schema}.events AS e
  JOIN {schema}.streams AS s ON s.stream_id = e.stream_id
  WHERE e.global_position BETWEEN $1 AND $2
  ORDER BY e.global_position
  LIMIT $3
) AS w ON true
WHERE a.stream_id = 0
