-- $1 bigint  last global position to read
-- $2 int     most events to read
-- data and metadata come as text, created_at as epoch milliseconds (see read_stream_forward.sql).
SELECT e.global_position AS event_number, e.event_id, s.stream_uuid, e.stream_version, e.event_type,
       e.data::text AS data, e.metadata::text AS metadata, e.causation_id, e.correlation_id,
       (date_part('epoch', date_trunc('milliseconds', e.created_at)) * 1000)::bigint AS created_at
FROM {schema}.events AS e
JOIN {schema}.streams AS s ON s.stream_id = e.stream_id
WHERE e.global_position <= $1
ORDER BY e.global_position DESC
LIMIT $2
