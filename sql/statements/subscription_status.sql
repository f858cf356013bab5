-- $1 text  the store's schema (lock names are "<schema>:<stream_uuid>:<subscription_name>")
-- Every persistent subscription of the schema with its stored checkpoint, the head of its
-- stream, and the session holding its advisory lock, if any, with the tag of the store that
-- session serves (lib/storage/fleet.ts). PostgreSQL shows a bigint advisory key as its high
-- half in classid and its low half in objid, with objsubid 1; two int keys with objsubid 2.
WITH subscription AS (
  SELECT s.stream_uuid, s.subscription_name, s.last_seen, coalesce(st.stream_version, 0) AS head,
         hashtextextended($1 || ':' || s.stream_uuid || ':' || s.subscription_name, 0) AS lock_key
  FROM {schema}.subscriptions AS s
  LEFT JOIN {schema}.streams AS st ON st.stream_uuid = s.stream_uuid
)
SELECT sub.stream_uuid, sub.subscription_name, sub.last_seen, sub.head,
       holder.backend_pid, holder.application_name, holder.client_addr, holder.store_tag
FROM subscription AS sub
LEFT JOIN LATERAL (
  SELECT l.pid AS backend_pid, a.application_name, host(a.client_addr) AS client_addr,
         (SELECT m.objid::bigint FROM pg_locks AS m
          WHERE m.pid = l.pid AND m.locktype = 'advisory' AND m.granted AND m.objsubid = 2
            AND m.classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
          LIMIT 1) AS store_tag
  FROM pg_locks AS l
  JOIN pg_stat_activity AS a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid::bigint = (sub.lock_key >> 32) & 4294967295
    AND l.objid::bigint = sub.lock_key & 4294967295
  LIMIT 1
) AS holder ON true
ORDER BY sub.stream_uuid, sub.subscription_name
