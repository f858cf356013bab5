-- $1 text    source_uuid
-- $2 bigint  source_version
-- $3 text    source_type
-- $4 text    data as JSON text
-- $5 text    metadata as JSON text
-- Keeps one snapshot per source: a newer one replaces the old.
INSERT INTO snapshots (source_uuid, source_version, source_type, data, metadata)
VALUES ($1, $2, $3, $4::text::jsonb, $5::text::jsonb)
ON CONFLICT (source_uuid) DO UPDATE
SET source_version = excluded.source_version, source_type = excluded.source_type,
    data = excluded.data, metadata = excluded.metadata, created_at = now()
