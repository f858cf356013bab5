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
