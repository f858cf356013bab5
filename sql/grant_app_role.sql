-- What an application role needs to run the store, and nothing more: it reads and appends,
-- keeps subscription checkpoints and snapshots, and owns nothing, so it cannot alter, drop or
-- truncate the tables; the owner role runs init and migrate. Runs with search_path set to
-- the store's schema; lib/storage/schema.ts grantAppRole puts the quoted role and schema
-- names in place of app_role and app_schema (identifiers cannot be parameters).
GRANT USAGE ON SCHEMA app_schema TO app_role;
GRANT SELECT ON schema_migrations TO app_role;
GRANT SELECT, INSERT, UPDATE ON streams TO app_role;
GRANT SELECT, INSERT ON events, links TO app_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON subscriptions, snapshots TO app_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app_schema TO app_role;
