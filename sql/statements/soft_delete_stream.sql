-- $1 bigint  stream_id
-- The stream can no longer be read or appended to; its events stay in $all and in the
-- streams that link them.
UPDATE {schema}.streams SET deleted_at = now() WHERE stream_id = $1
