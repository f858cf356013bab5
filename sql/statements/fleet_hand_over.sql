-- $1 text  the store's schema   $2 int  this store's tag   $3 text[]  lock names this session holds
-- The one item this store should hand over, if it is among $3: an item that a store holding
-- at least two fewer items wants too. The lowest such item of the whole store, so that its
-- sessions agree on one at a time.
WITH advisory AS (
  SELECT l.pid, l.classid, l.objid, l.objsubid FROM pg_locks AS l
  WHERE l.locktype = 'advisory' AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), member AS (
  SELECT DISTINCT pid, objid AS store FROM advisory
  WHERE objsubid = 2 AND classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
), want AS (
  SELECT w.objid::bigint AS item, m.store FROM advisory AS w JOIN member AS m USING (pid)
  WHERE w.objsubid = 2 AND w.classid = (hashtext($1 || ':fleet wants') & 2147483647)::oid
), held AS (
  SELECT h.objid::bigint & 2147483647 AS item, m.store FROM advisory AS h JOIN member AS m USING (pid)
  WHERE h.objsubid = 1
), load AS (
  SELECT s.store, (SELECT count(*) FROM held WHERE held.store = s.store) AS items
  FROM (SELECT DISTINCT store FROM member) AS s
), movable AS (
  SELECT h.item FROM held AS h
  WHERE h.store = $2::int::oid AND EXISTS (
    SELECT 1 FROM want AS w JOIN load AS l USING (store)
    WHERE w.item = h.item AND w.store <> h.store
      AND l.items + 2 <= (SELECT items FROM load WHERE store = $2::int::oid)
  )
)
SELECT name FROM unnest($3::text[]) AS name
WHERE hashtextextended(name, 0) & 2147483647 = (SELECT min(item) FROM movable)
