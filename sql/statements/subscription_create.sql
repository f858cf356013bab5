-- $1 text    stream_uuid ('$all' for an all-streams subscription)
-- $2 text    subscription_name
-- $3 bigint  checkpoint for a new subscription (from startFrom)
-- Creates the subscription when missing; returns its checkpoint either way.
WITH created AS (
  INSERT INTO {schema}.subscriptions (stream_uuid, subscription_name, last_seen)
  VALUES ($1, $2, $3)
  ON CONFLICT (stream_uuid, subscription_name) DO NOTHING
  RETURNING last_seen
)
SELECT last_seen FROM created
UNION ALL
SELECT last_seen FROM {schema}.subscriptions WHERE stream_uuid = $1 AND subscription_name = $2
LIMIT 1
