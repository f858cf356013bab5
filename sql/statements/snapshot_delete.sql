-- $1 text  source_uuid
DELETE FROM {schema}.snapshots WHERE source_uuid = $1
