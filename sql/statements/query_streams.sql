-- $1 text[]  stream ids (stream_uuid) a write batch touches
SELECT stream_id, stream_uuid, stream_version, deleted_at IS NOT NULL AS deleted
FROM {schema}.streams
WHERE stream_uuid = ANY($1::text[])
