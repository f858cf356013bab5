-- Writes a batch planned against the states its requests expect rather than states read
-- under the $all lock, so it needs one round trip. It checks those states under the lock and
-- fails whole if one does not hold (ES002, or 23505 for a stream that exists); the writer then
-- takes the locking write. 'any_version' and 'stream_exists' streams take the version found
-- under the lock: their events' versions come counted back from it (0 for the last).
-- $1, $2    streams to create (stream_uuid), their versions
-- $3..$5    streams that grow, the versions expected (NULL: 'stream_exists'), their new
--           versions ('stream_exists': how many events they get)
-- $6        how many positions the batch takes in $all
-- $7..$15   events as in write_batch.sql, positions counted from 1
-- $16..$18  the notification: channel, streams (JSON array or 'null'), origin
-- $19, $20  streams appended with 'any_version', how many events each gets
WITH moved_all AS (
  -- Taken first (the other parts join it), so the $all lock orders this transaction as it
  -- orders the locking write; the row is re-read after any wait, so `first` is current.
  UPDATE {schema}.streams SET stream_version = stream_version + $6::bigint WHERE stream_id = 0
  RETURNING stream_version - $6::bigint AS first
), new_streams AS (
  INSERT INTO {schema}.streams (stream_uuid, stream_version)
  SELECT n.stream_uuid, n.version FROM moved_all, unnest($1::text[], $2::bigint[]) AS n (stream_uuid, version)
  RETURNING stream_id, stream_uuid, 0::bigint AS last
), grown_streams AS (
  -- A row another transaction changed meanwhile is checked again in its latest version.
  UPDATE {schema}.streams AS s SET stream_version = CASE WHEN g.expected IS NULL THEN s.stream_version + g.version ELSE g.version END
  FROM moved_all, unnest($3::text[], $4::bigint[], $5::bigint[]) AS g (stream_uuid, expected, version)
  WHERE s.stream_uuid = g.stream_uuid AND (g.expected IS NULL OR s.stream_version = g.expected) AND s.deleted_at IS NULL
  RETURNING s.stream_id, s.stream_uuid, CASE WHEN g.expected IS NULL THEN s.stream_version ELSE 0 END AS last
), any_streams AS (
  -- ON CONFLICT takes the row as it is now (read committed), whatever the statement's snapshot.
  INSERT INTO {schema}.streams AS s (stream_uuid, stream_version)
  SELECT a.stream_uuid, a.count FROM moved_all, unnest($19::text[], $20::bigint[]) AS a (stream_uuid, count)
  ON CONFLICT (stream_uuid) DO UPDATE SET stream_version = s.stream_version + excluded.stream_version
  WHERE s.deleted_at IS NULL
  RETURNING s.stream_id, s.stream_uuid, s.stream_version AS last
), stream_ids AS (
  SELECT * FROM new_streams
  UNION ALL
  SELECT * FROM grown_streams
  UNION ALL
  SELECT * FROM any_streams
), inserted_events AS (
  INSERT INTO {schema}.events (global_position, event_id, stream_id, stream_version, event_type,
                      causation_id, correlation_id, data, metadata, created_at)
  SELECT m.first + e.p, e.i, ids.stream_id, ids.last + e.v, e.t, e.c, e.r,
         {schema}.stored_data(nullif(e.d, 'null')::jsonb), {schema}.stored_data(e.m::jsonb), now()
  FROM moved_all AS m,
       unnest($7::bigint[], $8::uuid[], $9::text[], $10::bigint[], $11::text[], $12::uuid[], $13::uuid[],
              string_to_array($14::text, E'\n'), string_to_array($15::text, E'\n'))
         AS e (p, i, s, v, t, c, r, d, m)
  JOIN stream_ids AS ids ON ids.stream_uuid = e.s
  RETURNING 1
)
-- Every expected stream grew and every event was written, or nothing was; then the
-- notification (lib/notifications/notification.ts), sent at commit. `first` (the position
-- before the batch), `created_at` (as the reads return it) and `lasts` (stream → `last`, for
-- the streams taken as they were) let the writer hand the committed events to this process's
-- subscriptions (lib/subscriptions/hand_off.ts).
SELECT {schema}.assert_expected_state(
         (SELECT count(*) FROM grown_streams) = cardinality($3::text[])
         AND (SELECT count(*) FROM any_streams) = cardinality($19::text[])
         AND (SELECT count(*) FROM inserted_events) = $6::bigint
       ) AS written,
       (SELECT json_object_agg(stream_uuid, last) FROM stream_ids WHERE last <> 0) AS lasts,
       pg_notify($16, json_build_object('first', m.first + 1, 'last', m.first + $6::bigint, 'streams', $17::text::json, 'origin', $18::text)::text),
       m.first, floor(extract(epoch FROM now()) * 1000)::bigint AS created_at
FROM moved_all AS m
