// The raw baseline every workload runs beside the store: the leanest plain postgres.js code
// doing the same durable database work, without the store. An append is one statement: the
// stream's version checked and the events inserted (INSERT … SELECT FROM unnest) as
// data-modifying CTEs, into a table with the unique indexes the store keeps (global
// position, stream + version, event id), with event ids made by the client as the store's are.
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'

const SCHEMA = 'bench_raw'

// $2 null: any version. Nothing is inserted when the stream is not at $2; a concurrent
// append to the same stream fails on the (stream_id, version) index.
const APPEND = `
  WITH current AS (
    SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = $1
  ), checked AS (
    SELECT version FROM current WHERE $2::bigint IS NULL OR version = $2::bigint
  )
  INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, causation_id, correlation_id)
  SELECT $1, c.version + x.n, x.i, x.t, x.d::jsonb, x.m::jsonb, x.c, x.r
  FROM checked AS c,
       unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::uuid[]) WITH ORDINALITY AS x (i, t, d, m, c, r, n)`

/** The baseline's table, in `schema` (made afresh). */
export async function createBaselineTables(sql, schema = SCHEMA) {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await sql.unsafe(`CREATE SCHEMA ${schema}`)
  await sql.unsafe(`
    CREATE TABLE ${schema}.events (
      global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id text NOT NULL,
      version bigint NOT NULL,
      event_id uuid NOT NULL UNIQUE,
      event_type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      causation_id uuid,
      correlation_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (stream_id, version)
    )`)
}

/** Appends `events` in one statement; `expectedVersion` null for any version. */
export async function rawAppend(sql, streamId, expectedVersion, events) {
  const result = await sql.unsafe(
    APPEND,
    [
      streamId,
      expectedVersion,
      events.map((e) => e.eventId ?? randomUUID()),
      events.map((e) => e.eventType),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata ?? {})),
      events.map((e) => e.causationId ?? null),
      events.map((e) => e.correlationId ?? null),
    ],
    { prepare: true },
  )
  if (result.count !== events.length) throw new Error(`wrong expected version ${expectedVersion} for ${streamId}`)
}

export async function openBaseline(url) {
  const sql = postgres(url, { max: 10, onnotice: () => {}, connection: { search_path: SCHEMA } })
  await createBaselineTables(sql)
  return {
    sql,
    append: (streamId, expectedVersion, events) => rawAppend(sql, streamId, expectedVersion, events),
    /** A plain indexed SELECT of a stream. */
    read(streamId) {
      return sql`SELECT * FROM events WHERE stream_id = ${streamId} ORDER BY version LIMIT 1000`
    },
    async close() {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
      await sql.end()
    },
  }
}
