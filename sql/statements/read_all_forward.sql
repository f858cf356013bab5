-- $1 bigint  first global position to read
-- $2 int     most events to read
-- The page as JSON text (see read_stream_forward.sql).
SELECT coalesce(json_agg(json_build_object(
         'eventNumber', e.global_position, 'eventId', e.event_id, 'streamId', s.stream_uuid,
         'streamVersion', e.stream_version, 'eventType', e.event_type, 'data', e.data,
         'metadata', e.metadata, 'causationId', e.causation_id, 'correlationId', e.correlation_id,
         'createdAt', e.created_at) ORDER BY e.global_position), '[]')::text AS events
FROM (SELECT * FROM events WHERE global_position >= $1 ORDER BY global_position LIMIT $2) AS e
JOIN streams AS s ON s.stream_id = e.stream_id
