-- $1 text    stream_uuid
-- $2 bigint  first version to read
-- $3 int     most events to read
-- One row when the stream exists; `events` is the page as JSON text, built here so that a
-- page crosses from the worker thread as one string (see workers/reader_worker.ts).
SELECT s.deleted_at IS NOT NULL AS deleted, page.events
FROM streams AS s
CROSS JOIN LATERAL (
  SELECT coalesce(json_agg(json_build_object(
           'eventNumber', r.event_number, 'eventId', r.event_id,
           'streamId', CASE WHEN r.stream_id = s.stream_id THEN s.stream_uuid
                            ELSE (SELECT o.stream_uuid FROM streams AS o WHERE o.stream_id = r.stream_id) END,
           'streamVersion', r.stream_version, 'eventType', r.event_type, 'data', r.data,
           'metadata', r.metadata, 'causationId', r.causation_id, 'correlationId', r.correlation_id,
           'createdAt', r.created_at) ORDER BY r.event_number), '[]')::text AS events
  FROM (
    (SELECT e.stream_version AS event_number, e.* FROM events AS e
     WHERE e.stream_id = s.stream_id AND e.stream_version >= $2
     ORDER BY e.stream_version LIMIT $3)
    UNION ALL
    (SELECT l.stream_version, e.* FROM links AS l JOIN events AS e ON e.global_position = l.global_position
     WHERE l.stream_id = s.stream_id AND l.stream_version >= $2
     ORDER BY l.stream_version LIMIT $3)
    ORDER BY event_number LIMIT $3
  ) AS r
) AS page
WHERE s.stream_uuid = $1
