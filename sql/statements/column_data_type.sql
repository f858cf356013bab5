-- $1 text  the store's schema
-- The type of events.data in the store's schema: jsonb or bytea (see sql/bytea_columns.sql).
SELECT data_type FROM information_schema.columns
WHERE table_schema = $1 AND table_name = 'events' AND column_name = 'data'
