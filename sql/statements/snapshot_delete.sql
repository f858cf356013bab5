-- $1 text  source_uuid
DELETE FROM snapshots WHERE source_uuid = $1
