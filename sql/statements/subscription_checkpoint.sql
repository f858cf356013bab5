-- $1 text    stream_uuid
-- $2 text    subscription_name
-- $3 bigint  new checkpoint; never moves it back
UPDATE {schema}.subscriptions SET last_seen = greatest(last_seen, $3)
WHERE stream_uuid = $1 AND subscription_name = $2
