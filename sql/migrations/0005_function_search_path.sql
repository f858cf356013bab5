-- 0005: the store's plpgsql functions run with their own schema as search_path, whatever the
-- calling connection's: behind a pooler a server connection may carry another schema's
-- search_path, and a name in a function body is resolved when it runs. SQL-language
-- functions (stored_data) name nothing of the schema and are left as they are: a SET clause
-- would stop PostgreSQL inlining them into every write. A later migration that adds a
-- plpgsql function pins it the same way.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc AS p
    JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_language AS l ON l.oid = p.prolang
    WHERE n.nspname = current_schema() AND l.lanname = 'plpgsql'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
  END LOOP;
END;
$$;
