-- Writes one planned batch (lib/writer/group_commit.ts) in one statement.
-- $1 text[]    streams to create (stream_uuid)
-- $2 bigint[]  their versions
-- $3 bigint[]  existing streams that grow (stream_id)
-- $4 text[]    their stream_uuid
-- $5 bigint[]  their new versions
-- $6 bigint    the new last global position
-- $7 text      events, a JSON array of {p: position, i: event id, s: stream_uuid, v: version,
--              t: type, c: causation id, r: correlation id, d: data, m: metadata}; d and m
--              go through stored_data() into the column's type (jsonb, or bytea from base64)
-- $8 text      links, a JSON array of {s: stream_uuid, v: version in that stream, p: position}
WITH new_streams AS (
  INSERT INTO streams (stream_uuid, stream_version)
  SELECT * FROM unnest($1::text[], $2::bigint[])
  RETURNING stream_id, stream_uuid
), grown_streams AS (
  UPDATE streams AS s SET stream_version = g.version
  FROM unnest($3::bigint[], $5::bigint[]) AS g (stream_id, version)
  WHERE s.stream_id = g.stream_id
), moved_all AS (
  UPDATE streams SET stream_version = $6::bigint WHERE stream_id = 0
), stream_ids AS (
  SELECT stream_id, stream_uuid FROM new_streams
  UNION ALL
  SELECT * FROM unnest($3::bigint[], $4::text[])
), inserted_events AS (
  INSERT INTO events (global_position, event_id, stream_id, stream_version, event_type,
                      causation_id, correlation_id, data, metadata, created_at)
  SELECT e.p, e.i, ids.stream_id, e.v, e.t, e.c, e.r, stored_data(e.d), stored_data(e.m), now()
  FROM jsonb_to_recordset($7::text::jsonb)
         AS e (p bigint, i uuid, s text, v bigint, t text, c uuid, r uuid, d jsonb, m jsonb)
  JOIN stream_ids AS ids ON ids.stream_uuid = e.s
)
INSERT INTO links (stream_id, stream_version, global_position)
SELECT ids.stream_id, l.v, l.p
FROM jsonb_to_recordset($8::text::jsonb) AS l (s text, v bigint, p bigint)
JOIN stream_ids AS ids ON ids.stream_uuid = l.s
