-- $1 text  stream_uuid ('$all' is stream 0: its version is the last global position)
SELECT stream_uuid, stream_version, created_at, deleted_at
FROM {schema}.streams
WHERE stream_uuid = $1
