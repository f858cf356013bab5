-- $1 text  lock name "<schema>:<stream_uuid>:<subscription_name>" (see fleet_try_lock.sql)
SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS released
