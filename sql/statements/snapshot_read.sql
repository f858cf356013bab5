-- $1 text  source_uuid
SELECT source_uuid, source_version, source_type, data, metadata, created_at
FROM {schema}.snapshots
WHERE source_uuid = $1
