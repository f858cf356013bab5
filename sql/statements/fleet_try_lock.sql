-- $1 text  the store's schema   $2 int  this store's tag   $3 text  lock name   $4 boolean  pressing
-- Takes a work item's advisory lock when this store holds fewer items than its fair share:
-- the items the fleet wants divided by the stores wanting any (fleet_join.sql), rounded up. Pressing,
-- it takes a free item whatever its share, so that no item stays unheld. acquired is null
-- when the share said no; free tells whether another session holds the item.
WITH advisory AS (
  SELECT l.pid, l.classid, l.objid, l.objsubid FROM pg_locks AS l
  WHERE l.locktype = 'advisory' AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), want AS (
  SELECT pid, objid AS item FROM advisory
  WHERE objsubid = 2 AND classid = (hashtext($1 || ':fleet wants') & 2147483647)::oid
), member AS (
  SELECT pid, objid AS store FROM advisory
  WHERE objsubid = 2 AND classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
), fleet AS (
  SELECT
    (SELECT count(DISTINCT store) FROM member WHERE pid IN (SELECT pid FROM want)) AS stores,
    (SELECT count(DISTINCT item) FROM want) AS wanted,
    (SELECT count(*) FROM advisory WHERE objsubid = 1 AND pid IN (SELECT pid FROM member WHERE store = $2::int::oid)) AS mine,
    NOT EXISTS (
      SELECT 1 FROM advisory
      WHERE objsubid = 1 AND classid::bigint = (hashtextextended($3, 0) >> 32) & 4294967295
        AND objid::bigint = hashtextextended($3, 0) & 4294967295
    ) AS free
)
SELECT CASE WHEN free AND ($4 OR mine < ceil(wanted::numeric / greatest(stores, 1))) THEN pg_try_advisory_lock(hashtextextended($3, 0)) END AS acquired,
       free, pg_backend_pid() AS pid
FROM fleet
