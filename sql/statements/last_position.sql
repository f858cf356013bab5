-- $1 text  stream_uuid, or '$all' (stream 0, whose version is the last global position)
-- The stream's current version; no row when the stream does not exist.
SELECT stream_version FROM {schema}.streams WHERE stream_uuid = $1
