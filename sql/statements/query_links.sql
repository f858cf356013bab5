-- $1 bigint[]  streams a batch links into
-- $2 bigint[]  global positions of the events it links
SELECT stream_id, global_position
FROM {schema}.links
WHERE stream_id = ANY($1::bigint[]) AND global_position = ANY($2::bigint[])
