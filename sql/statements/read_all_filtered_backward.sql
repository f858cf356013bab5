-- $1 bigint  last global position to read, reading down
-- $2 int     most matching events to read
-- $3 text    event types to keep, as a text[] literal; NULL keeps every type
-- $4 text    LIKE pattern of the stream ids to keep ('order-%'); NULL keeps every stream
-- The matching events from $1 down, each row also carrying the last global position as of this
-- read (one row of NULL events when none match). A page that comes back short has looked at
-- every event up to that position, so a filtered subscription moves its checkpoint past them.
SELECT r.event_number, r.event_id, r.stream_uuid, r.stream_version, r.event_type, r.data, r.metadata,
       r.causation_id, r.correlation_id, r.created_at, h.head
FROM (SELECT stream_version AS head FROM {schema}.streams WHERE stream_id = 0) AS h
LEFT JOIN LATERAL (
  SELECT e.global_position AS event_number, e.event_id, s.stream_uuid, e.stream_version, e.event_type,
         e.data::text AS data, e.metadata::text AS metadata, e.causation_id, e.correlation_id,
         (date_part('epoch', date_trunc('milliseconds', e.created_at)) * 1000)::bigint AS created_at
  FROM {schema}.events AS e
  JOIN {schema}.streams AS s ON s.stream_id = e.stream_id
  WHERE e.global_position <= $1
    AND ($3::text[] IS NULL OR e.event_type = ANY ($3::text[]))
    AND ($4::text IS NULL OR s.stream_uuid LIKE $4)
  ORDER BY e.global_position DESC
  LIMIT $2
) AS r ON true
