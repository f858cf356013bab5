-- $1 text  the projection's row name ("$projection-<name>")
-- Sends a projection back to the start of $all; run in the transaction that also clears its
-- read model, after its row was locked. No row when there is no such projection.
UPDATE {schema}.subscriptions SET last_seen = 0
WHERE stream_uuid = '$all' AND subscription_name = $1
RETURNING last_seen
