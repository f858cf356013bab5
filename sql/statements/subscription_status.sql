-- $1 text  the store's schema (lock names are "<schema>:<stream_uuid>:<subscription_name>")
-- Every persistent subscription of the schema with its stored checkpoint, the head of its
-- stream, and the session holding its advisory lock, if any, with the tag of the store that
-- session serves (lib/storage/fleet.ts). PostgreSQL shows a bigint advisory key as its high
-- half in classid and its low half in objid, with objsubid 1; two int keys with objsubid 2.
-- The locks and sessions are read once, not once per subscription.
WITH subscription AS (
  SELECT s.stream_uuid, s.subscription_name, s.last_seen, coalesce(st.stream_version, 0) AS head,
         hashtextextended($1 || ':' || s.stream_uuid || ':' || s.subscription_name, 0) AS lock_key
  FROM {schema}.subscriptions AS s
  LEFT JOIN {schema}.streams AS st ON st.stream_uuid = s.stream_uuid
), advisory AS MATERIALIZED (
  SELECT l.pid, l.classid, l.objid, l.objsubid FROM pg_locks AS l
  WHERE l.locktype = 'advisory' AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), member AS (
  SELECT DISTINCT ON (pid) pid, objid::bigint AS store_tag FROM advisory
  WHERE objsubid = 2 AND classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
), holder AS (
  -- A subscription's lock is exclusive: one session at most holds each.
  SELECT DISTINCT ON (l.classid, l.objid) l.classid::bigint AS high, l.objid::bigint AS low,
         l.pid AS backend_pid, a.application_name, host(a.client_addr) AS client_addr, m.store_tag
  FROM advisory AS l
  JOIN pg_stat_activity AS a ON a.pid = l.pid
  LEFT JOIN member AS m ON m.pid = l.pid
  WHERE l.objsubid = 1
)
SELECT sub.stream_uuid, sub.subscription_name, sub.last_seen, sub.head,
       holder.backend_pid, holder.application_name, holder.client_addr, holder.store_tag
FROM subscription AS sub
LEFT JOIN holder ON holder.high = (sub.lock_key >> 32) & 4294967295 AND holder.low = sub.lock_key & 4294967295
ORDER BY sub.stream_uuid, sub.subscription_name
