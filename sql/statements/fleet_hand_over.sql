-- $1 text  the store's schema   $2 int  this store's tag   $3 text[]  lock names this session holds
-- The items of $3 this store should hand over: items that a store holding at least two fewer
-- wants too. As many as this store holds beyond its share (at least one), but no more than
-- half the difference to the least loaded such store, so that stores handing over at once do
-- not overshoot. The lowest items of the whole store, so that its sessions agree on which.
WITH advisory AS (
  SELECT l.pid, l.classid, l.objid, l.objsubid FROM pg_locks AS l
  WHERE l.locktype = 'advisory' AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), want AS (
  SELECT w.objid::bigint AS item, m.objid AS store FROM advisory AS w
  JOIN advisory AS m ON m.pid = w.pid AND m.objsubid = 2 AND m.classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
  WHERE w.objsubid = 2 AND w.classid = (hashtext($1 || ':fleet wants') & 2147483647)::oid
), member AS (
  -- Stores that want anything, and their sessions.
  SELECT DISTINCT a.pid, a.objid AS store FROM advisory AS a
  WHERE a.objsubid = 2 AND a.classid = (hashtext($1 || ':fleet members') & 2147483647)::oid
    AND a.objid IN (SELECT store FROM want)
), held AS (
  SELECT h.objid::bigint & 2147483647 AS item, m.store FROM advisory AS h JOIN member AS m USING (pid)
  WHERE h.objsubid = 1
), load AS (
  SELECT s.store, (SELECT count(*) FROM held WHERE held.store = s.store) AS items
  FROM (SELECT DISTINCT store FROM member) AS s
), mine AS (
  SELECT coalesce((SELECT items FROM load WHERE store = $2::int::oid), 0) AS items
), taker AS (
  -- Stores holding at least two fewer that want an item held here, with their load.
  SELECT h.item, l.items FROM held AS h
  JOIN want AS w ON w.item = h.item AND w.store <> h.store
  JOIN load AS l ON l.store = w.store
  WHERE h.store = $2::int::oid AND l.items + 2 <= (SELECT items FROM mine)
), share AS (
  SELECT ceil((SELECT count(DISTINCT item) FROM want)::numeric / greatest((SELECT count(*) FROM load), 1))::int AS items
), movable AS (
  SELECT item FROM taker GROUP BY item ORDER BY item
  LIMIT least(greatest((SELECT items FROM mine) - (SELECT items FROM share), 1), ((SELECT items FROM mine) - (SELECT min(items) FROM taker)) / 2)
)
SELECT name FROM unnest($3::text[]) AS name
WHERE hashtextextended(name, 0) & 2147483647 IN (SELECT item FROM movable)
