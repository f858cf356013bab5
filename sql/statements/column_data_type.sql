-- The type of events.data in the store's schema: jsonb or bytea (see sql/bytea_columns.sql).
SELECT data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'data'
