-- Whether a link of a write whose outcome was unknown is stored.
-- $1 text    the stream it linked into (stream_uuid)
-- $2 bigint  the linked event's global position
SELECT EXISTS (
  SELECT 1 FROM {schema}.links JOIN {schema}.streams USING (stream_id)
  WHERE streams.stream_uuid = $1 AND links.global_position = $2::bigint
) AS written
