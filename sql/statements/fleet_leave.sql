-- $1 text  the store's schema   $2 text  lock name
-- The store no longer wants the item: its want (fleet_join.sql) goes, and its lock if held.
SELECT pg_advisory_unlock_shared(hashtext($1 || ':fleet wants') & 2147483647, (hashtextextended($2, 0) & 2147483647)::int) AS left_want
