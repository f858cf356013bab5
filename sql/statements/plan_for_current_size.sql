-- Plans every statement of this write transaction for the tables as they are now. A plan
-- cached while a table was small (a sequential scan) stays cached until the table is next
-- analyzed; where autovacuum is off, never: a new store's batch lookups then kept scanning
-- the whole streams table (measured: 22 ms a batch at 30,000 streams). Planning afresh costs
-- less than that risk (benchmarks/README.md).
SET LOCAL plan_cache_mode = force_custom_plan
