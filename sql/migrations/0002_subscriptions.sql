-- 0002: persistent subscriptions, and notifications that name the streams written.

-- One row per persistent subscription (= commanded's subscriptions table). last_seen is the
-- checkpoint: every event numbered up to it was acknowledged.
CREATE TABLE subscriptions (
  subscription_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_uuid text NOT NULL,
  subscription_name text NOT NULL,
  last_seen bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_uuid, subscription_name)
);

-- The payload becomes JSON: {"first": n, "last": n, "streams": [...]}. "streams" lists the
-- streams written, so a stream subscription wakes only for its own; it is null when the
-- list would not fit a NOTIFY payload (8000 bytes), and then every subscription checks.
CREATE OR REPLACE FUNCTION notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  SELECT json_build_object('first', min(i.global_position), 'last', max(i.global_position),
                           'streams', json_agg(DISTINCT s.stream_uuid))::text
  INTO payload
  FROM inserted_events AS i JOIN streams AS s ON s.stream_id = i.stream_id;
  IF length(payload) > 7900 THEN
    SELECT json_build_object('first', min(global_position), 'last', max(global_position), 'streams', NULL)::text
    INTO payload FROM inserted_events;
  END IF;
  IF payload IS NOT NULL AND payload NOT LIKE '{"first" : null%' THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.events', payload);
  END IF;
  RETURN NULL;
END;
$$;

-- Links take no $all position; their notification names the streams linked into.
CREATE FUNCTION notify_links() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  SELECT json_build_object('first', NULL, 'last', NULL, 'streams', json_agg(DISTINCT s.stream_uuid))::text
  INTO payload
  FROM inserted_links AS l JOIN streams AS s ON s.stream_id = l.stream_id
  HAVING count(*) > 0;
  IF length(payload) > 7900 THEN
    payload := '{"first" : null, "last" : null, "streams" : null}';
  END IF;
  IF payload IS NOT NULL THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.events', payload);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER links_notify AFTER INSERT ON links
  REFERENCING NEW TABLE AS inserted_links
  FOR EACH STATEMENT EXECUTE FUNCTION notify_links();
