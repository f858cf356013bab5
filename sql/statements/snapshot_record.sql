-- $1 text    source_uuid
-- $2 bigint  source_version
-- $3 text    source_type
-- $4         data (jsonb or bytea, as the store's columns are)
-- $5         metadata (likewise)
-- Keeps one snapshot per source: a newer one replaces the old.
INSERT INTO {schema}.snapshots (source_uuid, source_version, source_type, data, metadata)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (source_uuid) DO UPDATE
SET source_version = excluded.source_version, source_type = excluded.source_type,
    data = excluded.data, metadata = excluded.metadata, created_at = now()
