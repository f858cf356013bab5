-- Whether a deletion whose outcome was unknown took place: the stream is gone or soft-deleted.
-- $1 text  the stream (stream_uuid)
SELECT NOT EXISTS (SELECT 1 FROM {schema}.streams WHERE stream_uuid = $1 AND deleted_at IS NULL) AS written
