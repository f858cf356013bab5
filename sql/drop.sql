-- Removes every object pg-eventstore made in a schema, and nothing else of it.
DROP TABLE IF EXISTS links, events, streams, schema_migrations CASCADE;
DROP FUNCTION IF EXISTS refuse_event_changes() CASCADE;
DROP FUNCTION IF EXISTS notify_events() CASCADE;
DROP FUNCTION IF EXISTS stored_data(jsonb) CASCADE;
DROP TABLE IF EXISTS subscriptions CASCADE;
DROP FUNCTION IF EXISTS notify_links() CASCADE;
DROP TABLE IF EXISTS snapshots CASCADE;
DROP FUNCTION IF EXISTS assert_expected_state(boolean) CASCADE;
