-- $1 text  the projection's row name ("$projection-<name>")
-- Its checkpoint, locked until the transaction ends: every batch and every reset of one
-- projection, in any process, goes through here one at a time.
SELECT last_seen FROM {schema}.subscriptions
WHERE stream_uuid = '$all' AND subscription_name = $1
FOR UPDATE
