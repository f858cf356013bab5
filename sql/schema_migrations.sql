-- The record of applied migrations (sql/migrations/NNNN_name.sql), made before the first one runs.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)
