// The raw baseline every workload runs beside the store: the leanest plain postgres.js code
// doing the same database work, without the store (shared/BENCHMARKS.md).
import postgres from 'postgres'

const SCHEMA = 'bench_raw'

export async function openBaseline(url) {
  const sql = postgres(url, { max: 10, onnotice: () => {}, connection: { search_path: SCHEMA } })
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`)
  await sql.unsafe(`
    CREATE TABLE ${SCHEMA}.events (
      stream_id text NOT NULL,
      version bigint NOT NULL,
      event_id uuid NOT NULL DEFAULT gen_random_uuid(),
      event_type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      causation_id uuid,
      correlation_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stream_id, version)
    )`)
  return {
    sql,
    /** One transaction: check the stream's version, insert all events with one INSERT … SELECT FROM unnest. */
    async append(streamId, expectedVersion, events) {
      await sql.begin(async (tx) => {
        const [{ version }] = await tx`SELECT coalesce(max(version), 0)::int AS version FROM events WHERE stream_id = ${streamId}`
        if (version !== expectedVersion) throw new Error(`wrong expected version ${expectedVersion}, stream at ${version}`)
        await tx`
          INSERT INTO events (stream_id, version, event_type, data, metadata, causation_id, correlation_id)
          SELECT ${streamId}, ${version} + n, t, d::jsonb, m::jsonb, c, r
          FROM unnest(${events.map((e) => e.eventType)}::text[], ${events.map((e) => JSON.stringify(e.data))}::text[],
                      ${events.map((e) => JSON.stringify(e.metadata))}::text[], ${events.map((e) => e.causationId)}::uuid[],
                      ${events.map((e) => e.correlationId)}::uuid[]) WITH ORDINALITY AS x (t, d, m, c, r, n)`
      })
    },
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
