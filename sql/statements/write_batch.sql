-- Writes one planned batch (lib/writer/group_commit.ts) in one statement.
-- $1 text[]    streams to create (stream_uuid)
-- $2 bigint[]  their versions
-- $3 bigint[]  existing streams that grow (stream_id)
-- $4 text[]    their stream_uuid
-- $5 bigint[]  their new versions
-- $6 bigint    the new last global position
-- $7..$15     events as columns (lib/writer/group_commit.ts EventColumns): positions, event
--              ids, stream_uuids, versions, types, causation ids, correlation ids, then data and
--              metadata as JSON texts joined by newlines (JSON text holds no raw newline). JSON
--              null data is stored as SQL NULL; stored_data() turns each value into the column's
--              type (jsonb, or bytea from a base64 JSON string)
-- $16 text[]   links: the streams (stream_uuid)
-- $17 bigint[] their versions there
-- $18 bigint[] the linked events' positions
WITH new_streams AS (
  INSERT INTO {schema}.streams (stream_uuid, stream_version)
  SELECT * FROM unnest($1::text[], $2::bigint[])
  RETURNING stream_id, stream_uuid
), grown_streams AS (
  UPDATE {schema}.streams AS s SET stream_version = g.version
  FROM unnest($3::bigint[], $5::bigint[]) AS g (stream_id, version)
  WHERE s.stream_id = g.stream_id
), moved_all AS (
  UPDATE {schema}.streams SET stream_version = $6::bigint WHERE stream_id = 0
), stream_ids AS (
  SELECT stream_id, stream_uuid FROM new_streams
  UNION ALL
  SELECT * FROM unnest($3::bigint[], $4::text[])
), inserted_events AS (
  INSERT INTO {schema}.events (global_position, event_id, stream_id, stream_version, event_type,
                      causation_id, correlation_id, data, metadata, created_at)
  SELECT e.p, e.i, ids.stream_id, e.v, e.t, e.c, e.r,
         {schema}.stored_data(nullif(e.d, 'null')::jsonb), {schema}.stored_data(e.m::jsonb), now()
  FROM unnest($7::bigint[], $8::uuid[], $9::text[], $10::bigint[], $11::text[], $12::uuid[], $13::uuid[],
              string_to_array($14::text, E'\n'), string_to_array($15::text, E'\n'))
         AS e (p, i, s, v, t, c, r, d, m)
  JOIN stream_ids AS ids ON ids.stream_uuid = e.s
)
INSERT INTO {schema}.links (stream_id, stream_version, global_position)
SELECT ids.stream_id, l.v, l.p
FROM unnest($16::text[], $17::bigint[], $18::bigint[]) AS l (s, v, p)
JOIN stream_ids AS ids ON ids.stream_uuid = l.s
