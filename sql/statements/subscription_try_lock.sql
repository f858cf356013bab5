-- $1 text  lock name "<schema>:<stream_uuid>:<subscription_name>"
-- A session-level advisory lock: held until released or until the session ends, which is
-- how a standby process notices that the holder stopped or died. The pid tells the worker
-- which session holds its locks (lib/locks/lock_session.ts).
SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS acquired, pg_backend_pid() AS pid
