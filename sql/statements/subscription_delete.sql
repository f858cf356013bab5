-- $1 text  stream_uuid
-- $2 text  subscription_name
DELETE FROM {schema}.subscriptions WHERE stream_uuid = $1 AND subscription_name = $2
RETURNING subscription_id
