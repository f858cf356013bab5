// Transactional projections: a read model of one row per event, kept by store.project,
// beside a hand-written loop doing the same SQL (lock the checkpoint, read the next events,
// insert their rows, move the checkpoint, commit). Catch-up over N seeded events (median of
// three runs each), then the live lag while 10 writers append.
//
//   npm run build && DATABASE_URL=… node benchmarks/projection.js [--events N] [--batch B]
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { benchmarkDatabase } from './database.js'
import { benchEvents, median, percentile, progress } from './harness.js'
import { seedEvents } from './seed.js'

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } } })
const total = Number(values.events)
const batchSize = Number(values.batch)
const database = await benchmarkDatabase()
const config = { url: database.url, schema: 'bench_projection', workers: 2 }

await EventStore.drop(config)
await EventStore.init(config)
const sql = postgres(database.url, { max: 4, onnotice: () => {}, connection: { search_path: config.schema } })
await seedEvents(sql, total, 'projection')
await sql`DROP TABLE IF EXISTS read_model`
await sql`CREATE TABLE read_model (position bigint NOT NULL, stream text NOT NULL, kind text NOT NULL)`
const store = await EventStore.start(config)

const rowsOf = (events) => events.map((e) => ({ position: e.eventNumber, stream: e.streamId, kind: e.eventType }))

async function until(check) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20))
}

let round = 0
/** Seconds for store.project to build the read model from the first event. */
async function storeCatchUp() {
  await sql`TRUNCATE read_model`
  const name = `catch-up-${(round += 1)}`
  const started = performance.now()
  const projection = await store.project(name, async (events, tx) => {
    await tx`INSERT INTO read_model ${tx(rowsOf(events))}`
  }, { batchSize })
  await until(async () => Number((await sql`SELECT last_seen FROM subscriptions WHERE subscription_name = ${`$projection-${name}`}`)[0]?.last_seen) >= total)
  const seconds = (performance.now() - started) / 1000
  await projection.stop()
  await store.deleteSubscription('$all', `$projection-${name}`)
  return seconds
}

/** The same SQL by hand: one transaction per batch, reading rows and inserting them, no store. */
async function baselineCatchUp() {
  await sql`TRUNCATE read_model`
  const name = `baseline-${(round += 1)}`
  await sql`INSERT INTO subscriptions (stream_uuid, subscription_name, last_seen) VALUES ('$all', ${name}, 0)`
  const started = performance.now()
  for (let done = false; !done; ) {
    await sql.begin(async (tx) => {
      const [{ last_seen: from }] = await tx`SELECT last_seen FROM subscriptions WHERE stream_uuid = '$all' AND subscription_name = ${name} FOR UPDATE`
      const events = await tx`
        SELECT e.global_position AS position, s.stream_uuid AS stream, e.event_type AS kind, e.data, e.metadata
        FROM events AS e JOIN streams AS s ON s.stream_id = e.stream_id
        WHERE e.global_position > ${from} ORDER BY e.global_position LIMIT ${batchSize}`
      if (events.length === 0) {
        done = true
        return
      }
      // Positions as numbers, as the store's events carry them (postgres.js gives int8 as text).
      await tx`INSERT INTO read_model ${tx(events.map(({ position, stream, kind }) => ({ position: Number(position), stream, kind })))}`
      await tx`UPDATE subscriptions SET last_seen = ${events.at(-1).position} WHERE stream_uuid = '$all' AND subscription_name = ${name}`
    })
  }
  const seconds = (performance.now() - started) / 1000
  await sql`DELETE FROM subscriptions WHERE subscription_name = ${name}`
  return seconds
}

const times = { store: [], baseline: [] }
for (let i = 0; i < Number(values.runs); i += 1) {
  progress(`catch-up over ${total.toLocaleString('en')} events: run ${i + 1}`)
  times.store.push(await storeCatchUp())
  times.baseline.push(await baselineCatchUp())
}

// Live: 10 writers append 10-event batches for 10 s; each event's lag is from its commit
// (created_at) to the moment the projection's handler sees it.
progress('live lag, 10 writers')
const lags = []
const live = await store.project('live', async (events, tx) => {
  const now = Date.now()
  for (const event of events) lags.push(now - event.createdAt.getTime())
  await tx`INSERT INTO read_model ${tx(rowsOf(events))}`
}, { batchSize, startFrom: 'current' })
let appended = 0
const deadline = performance.now() + 10_000
await Promise.all(
  Array.from({ length: 10 }, async (_, w) => {
    for (let i = 0; performance.now() < deadline; i += 1) {
      await store.appendToStream(`live-${w}-${i}`, 0, benchEvents(10))
      appended += 10
    }
  }),
)
await until(async () => lags.length >= appended)
await live.stop()
progress('')
await store.stop()
await sql.end()
await EventStore.drop(config)
await database.release()

const rate = (seconds) => Math.round(total / seconds).toLocaleString('en')
const s = median(times.store)
const b = median(times.baseline)
const sorted = lags.sort((x, y) => x - y)
console.log(`Projection of one row per event (multi-row INSERT per batch of ${batchSize}), 2 cores, median of ${values.runs} runs.\n`)
console.log('| workload | store.project | hand-written loop | store / loop |')
console.log('|---|---|---|---|')
console.log(`| catch-up over ${total.toLocaleString('en')} events | ${s.toFixed(1)} s (${rate(s)} events/s) | ${b.toFixed(1)} s (${rate(b)} events/s) | ${(b / s).toFixed(2)}× |`)
console.log(`\nLive, 10 writers appending 10-event batches for 10 s: ${appended.toLocaleString('en')} events (${Math.round(appended / 10).toLocaleString('en')}/s), all projected; lag from commit to handler p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms.`)
