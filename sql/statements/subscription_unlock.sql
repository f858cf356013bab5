-- $1 text  lock name (see subscription_try_lock.sql)
SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS released
