-- Added to grant_app_role.sql for a store started with enableHardDeletes: a hard delete
-- removes the stream, its events and the links to them.
GRANT DELETE ON streams, events, links TO app_role;
