// Growth: append and read latency on an empty store and after seeding N events (default
// 5,000,000; `--events N`), reported as after / before. Then `read $all` over the first
// 1,000,000 events with streamAllForward, against a raw paging SELECT, with peak memory.
// Usage: npm run build && node benchmarks/growth.js [--events N]
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { benchmarkDatabase, percentile, progress } from './database.js'

const argIndex = process.argv.indexOf('--events')
const SEEDED = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 5_000_000
const SAMPLES = 300
const payload = 'x'.repeat(150)
const event = (n) => ({
  eventType: 'Elixir.EventStore.Bench.SomethingHappened',
  data: { event: n, payload },
  metadata: { user: 'user@example.com' },
  correlationId: randomUUID(),
  causationId: randomUUID(),
})

const { url, release } = await benchmarkDatabase()
const schema = 'bench_growth'
const config = { url, schema, workers: 2 }
await EventStore.drop(config)
await EventStore.init(config)
const sql = postgres(url, { max: 2, onnotice: () => {}, connection: { search_path: schema } })
let store = await EventStore.start(config)
let round = 0

/** Median and p99 of: append 100 events to a new stream; read a 100-event stream. */
async function latencies(label) {
  const appends = []
  const reads = []
  for (let i = 0; i < SAMPLES; i += 1) {
    const stream = `probe-${label}-${round}-${i}`
    const events = Array.from({ length: 100 }, (_, n) => event(n))
    let started = performance.now()
    await store.appendToStream(stream, 0, events)
    appends.push(performance.now() - started)
    started = performance.now()
    await store.readStreamForward(stream)
    reads.push(performance.now() - started)
  }
  round += 1
  appends.sort((a, b) => a - b)
  reads.sort((a, b) => a - b)
  return { append: percentile(appends, 50), append99: percentile(appends, 99), read: percentile(reads, 50), read99: percentile(reads, 99) }
}

await latencies('warmup')
const before = await latencies('empty')

// Seed with set-based SQL (the store's own appends would take minutes longer): streams of 100
// events each, the same rows the writer makes, and the $all counter moved to match.
const CHUNK = 250_000
const started = performance.now()
const [{ last }] = await sql`SELECT stream_version AS last FROM streams WHERE stream_id = 0`
let position = Number(last)
for (let done = 0; done < SEEDED; done += CHUNK) {
  const size = Math.min(CHUNK, SEEDED - done)
  await sql.begin(async (tx) => {
    await tx`SELECT 1 FROM streams WHERE stream_id = 0 FOR UPDATE`
    const streams = await tx`
      INSERT INTO streams (stream_uuid, stream_version)
      SELECT 'seed-' || ${position} || '-' || s, 100 FROM generate_series(1, ${size / 100}) AS s
      RETURNING stream_id`
    const firstStream = Number(streams[0].stream_id)
    await tx`
      INSERT INTO events (global_position, event_id, stream_id, stream_version, event_type, causation_id, correlation_id, data, metadata, created_at)
      SELECT ${position} + g, gen_random_uuid(), ${firstStream} + (g - 1) / 100, (g - 1) % 100 + 1,
             'Elixir.EventStore.Bench.SomethingHappened', gen_random_uuid(), gen_random_uuid(),
             jsonb_build_object('event', g, 'payload', ${payload}::text), '{"user":"user@example.com"}'::jsonb, now()
      FROM generate_series(1, ${size}) AS g`
    await tx`UPDATE streams SET stream_version = ${position + size} WHERE stream_id = 0`
  })
  position += size
  const rate = Math.round((done + size) / ((performance.now() - started) / 1000))
  progress(`seeding: ${done + size} of ${SEEDED} events (${rate}/s)`)
}
progress('analyzing…')
await sql`VACUUM ANALYZE events`
await sql`VACUUM ANALYZE streams`
progress('')
await store.stop()
store = await EventStore.start(config)
await latencies('warmup-after')
const after = await latencies('full')

// read $all: the first 1,000,000 events (or all, if fewer), one page in memory at a time.
const READ_ALL = Math.min(1_000_000, position)
let peak = process.memoryUsage().rss
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss)
}, 50)
const rssBefore = process.memoryUsage().rss
let count = 0
let t0 = performance.now()
for await (const _ of store.streamAllForward(0, { readBatchSize: 1000 })) {
  count += 1
  if (count % 100_000 === 0) progress(`read $all: ${count}`)
  if (count >= READ_ALL) break
}
const storeSeconds = (performance.now() - t0) / 1000
const storePeak = peak - rssBefore
t0 = performance.now()
let raw = 0
for (let from = 1; raw < READ_ALL; ) {
  const rows = await sql`SELECT e.*, s.stream_uuid FROM events e JOIN streams s USING (stream_id) WHERE global_position >= ${from} ORDER BY global_position LIMIT 1000`
  if (rows.length === 0) break
  raw += rows.length
  from = Number(rows.at(-1).global_position) + 1
}
const rawSeconds = (performance.now() - t0) / 1000
clearInterval(sampler)
progress('')

await store.stop()
await sql.end()
await EventStore.drop(config)
await release()

const ratio = (a, b) => `${(a / b).toFixed(2)}×`
console.log(`growth: empty store → ${position.toLocaleString('en')} events`)
console.log(`  append 100 events   p50 ${before.append.toFixed(2)} → ${after.append.toFixed(2)} ms (${ratio(after.append, before.append)}), p99 ${before.append99.toFixed(2)} → ${after.append99.toFixed(2)} ms`)
console.log(`  read 100 events     p50 ${before.read.toFixed(2)} → ${after.read.toFixed(2)} ms (${ratio(after.read, before.read)}), p99 ${before.read99.toFixed(2)} → ${after.read99.toFixed(2)} ms`)
console.log(`read $all, ${READ_ALL.toLocaleString('en')} events: store ${Math.round(READ_ALL / storeSeconds)} events/s, raw baseline ${Math.round(raw / rawSeconds)} events/s (${ratio(READ_ALL / storeSeconds, raw / rawSeconds)}); memory growth while iterating ${(storePeak / 2 ** 20).toFixed(1)} MiB`)
