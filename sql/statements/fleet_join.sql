-- $1 text  the store's schema   $2 int  this store's tag   $3 text  lock name of a work item it wants
-- Joins the fleet on this session, each lock once: a shared advisory lock (members key,
-- store tag) tells which store the session serves, and one (wants key, item) that the store
-- wants the item. PostgreSQL holds them until released or until the session ends, so
-- pg_locks always shows the live fleet. Shared, so every session of a store can hold them.
WITH wanted (classid, objid) AS (
  VALUES (hashtext($1 || ':fleet members') & 2147483647, $2::int),
         (hashtext($1 || ':fleet wants') & 2147483647, (hashtextextended($3, 0) & 2147483647)::int)
)
SELECT pg_advisory_lock_shared(w.classid, w.objid)
FROM wanted AS w
WHERE NOT EXISTS (
  SELECT 1 FROM pg_locks AS l
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.classid = w.classid::oid AND l.objid = w.objid::oid
)
