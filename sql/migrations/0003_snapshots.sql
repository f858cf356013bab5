-- 0003: snapshots (= commanded's snapshots table): the latest state of one source, kept so
-- an aggregate need not replay all of its events.
CREATE TABLE snapshots (
  source_uuid text PRIMARY KEY,
  source_version bigint NOT NULL,
  source_type text NOT NULL,
  data jsonb,
  metadata jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
