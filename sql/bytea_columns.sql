-- Run by `init` after the migrations when the store is made with columnDataType 'bytea':
-- event and snapshot data and metadata become bytes, for serializers that are not JSON.
ALTER TABLE events
  ALTER COLUMN data TYPE bytea USING convert_to(data::text, 'UTF8'),
  ALTER COLUMN metadata TYPE bytea USING convert_to(metadata::text, 'UTF8');
DROP FUNCTION stored_data(jsonb);
CREATE FUNCTION stored_data(value jsonb) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$SELECT decode(value #>> '{}', 'base64')$$;
ALTER TABLE snapshots
  ALTER COLUMN data TYPE bytea USING convert_to(data::text, 'UTF8'),
  ALTER COLUMN metadata TYPE bytea USING convert_to(metadata::text, 'UTF8');
