-- $1 text  channel "<schema>.events"
-- $2 text  payload {"first", "last", "streams"} (lib/notifications/notification.ts), built by
--          the writer; delivered when the write transaction commits, dropped if it rolls back.
SELECT pg_notify($1, $2)
