-- Takes the $all row lock that orders every write transaction; returns the last global
-- position, and the transaction's time as the reads return created_at (epoch milliseconds).
SELECT stream_version AS last_position, floor(extract(epoch FROM now()) * 1000)::bigint AS created_at
FROM {schema}.streams WHERE stream_id = 0 FOR UPDATE
