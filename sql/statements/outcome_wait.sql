-- Waits for any write transaction still holding the $all row lock to end, so that what the
-- next statement reads is final (a write whose connection was lost may still be committing).
SELECT 1 FROM {schema}.streams WHERE stream_id = 0 FOR SHARE
