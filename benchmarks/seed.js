// Seeds a store's schema with `count` events by set-based SQL writing the rows the writer
// writes (streams of 100 events, $all moved to match): millions in minutes, for the workloads
// that need a big store (growth.js, admin_page.js).
import { progress } from './harness.js'

const payload = 'x'.repeat(150)

/** `matchEvery`: every Nth event (by position) is of type 'Matched' instead, for filters. */
export async function seedEvents(sql, count, label, { matchEvery = 0 } = {}) {
  const started = performance.now()
  const [{ last }] = await sql`SELECT stream_version AS last FROM streams WHERE stream_id = 0`
  let position = Number(last)
  const chunk = 250_000
  for (let done = 0; done < count; done += chunk) {
    const size = Math.min(chunk, count - done)
    // Set-based SQL writing the rows the writer writes (streams of 100 events, $all moved to match).
    await sql.begin(async (tx) => {
      await tx`SELECT 1 FROM streams WHERE stream_id = 0 FOR UPDATE`
      const [{ stream_id: first }] = await tx`
        INSERT INTO streams (stream_uuid, stream_version)
        SELECT 'seed-' || ${position} || '-' || s, 100 FROM generate_series(1, ${size / 100}) AS s
        RETURNING stream_id`
      await tx`
        INSERT INTO events (global_position, event_id, stream_id, stream_version, event_type, causation_id, correlation_id, data, metadata, created_at)
        SELECT ${position} + g, gen_random_uuid(), ${Number(first)} + (g - 1) / 100, (g - 1) % 100 + 1,
               CASE WHEN ${matchEvery} > 0 AND (${position} + g) % ${matchEvery} = 0 THEN 'Matched' ELSE 'Elixir.EventStore.Bench.SomethingHappened' END,
               gen_random_uuid(), gen_random_uuid(),
               jsonb_build_object('event', g, 'payload', ${payload}::text), '{"user":"user@example.com"}'::jsonb, now()
        FROM generate_series(1, ${size}) AS g`
      await tx`UPDATE streams SET stream_version = ${position + size} WHERE stream_id = 0`
    })
    position += size
    progress(`${label}: seeded ${(done + size).toLocaleString('en')} of ${count.toLocaleString('en')} events (${Math.round((done + size) / ((performance.now() - started) / 1000))}/s)`)
  }
  progress(`${label}: VACUUM ANALYZE`)
  await sql`VACUUM ANALYZE events`
  await sql`VACUUM ANALYZE streams`
  // Write the seed's dirty pages out now: otherwise the checkpointer flushes gigabytes of
  // them while the "after" latencies are taken, and that measures the bulk load, not growth.
  progress(`${label}: CHECKPOINT`)
  await sql`CHECKPOINT`
  progress('')
}
