-- 0004: what the one-statement write (sql/statements/write_expected.sql) needs: a way to fail
-- the whole statement when the stream states it was planned against no longer hold. The
-- writer then falls back to the locking write, which finds out exactly what changed.
CREATE FUNCTION assert_expected_state(holds boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT holds THEN
    RAISE EXCEPTION 'pg-eventstore: a stream changed since the batch was planned' USING ERRCODE = 'ES002';
  END IF;
  RETURN true;
END;
$$;

-- Notifications now come from the writer, which knows the batch's positions and streams, in
-- the same transaction as its write (sql/statements/notify.sql, write_expected.sql): the
-- statement triggers' transition tables and their join back to streams cost ~10% of a
-- 100-event write (benchmarks/README.md).
DROP TRIGGER events_notify ON events;
DROP TRIGGER links_notify ON links;
DROP FUNCTION notify_events();
DROP FUNCTION notify_links();
