// How should a page of events cross from a reader worker to the main thread?
// Compares, on one 100-event stream read by 10 concurrent readers:
//   baseline   postgres.js on the main thread, rows parsed by the driver (no worker at all)
//   cloned     a worker thread runs the same query and posts the row objects (structured clone)
//   store      store.readStreamForward: the page built as JSON text by PostgreSQL, posted as one string
// Usage: npm run build && node benchmarks/read_handover.js   (DATABASE_URL or the embedded server)
import { Worker } from 'node:worker_threads'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'

const READERS = 10
const ROUNDS = 300
const schema = 'bench_read_handover'
const base = { url: process.env.DATABASE_URL, schema, workers: 2 }

await EventStore.drop(base)
await EventStore.init(base)
const store = await EventStore.start(base)
const payload = 'x'.repeat(150)
await store.appendToStream('bench', 0, Array.from({ length: 100 }, (_, n) => ({
  eventType: 'Elixir.EventStore.Bench.SomethingHappened',
  data: { event: n, payload },
  metadata: { user: 'user@example.com' },
})))
const url = process.env.DATABASE_URL ?? store.config.url
const rawQuery = `SELECT global_position, event_id, stream_version, event_type, data, metadata, created_at
  FROM "${schema}".events WHERE stream_id = (SELECT stream_id FROM "${schema}".streams WHERE stream_uuid = 'bench')
  ORDER BY stream_version LIMIT 1000`

async function measure(name, readOnce) {
  for (let i = 0; i < 20; i += 1) await readOnce() // warm up
  const started = performance.now()
  await Promise.all(Array.from({ length: READERS }, async () => {
    for (let i = 0; i < ROUNDS; i += 1) {
      const events = await readOnce()
      if (events.length !== 100) throw new Error(`${name}: read ${events.length} events`)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  return { name, eventsPerSecond: Math.round((READERS * ROUNDS * 100) / seconds) }
}

const results = []
// The store's embedded url is not public; only the DATABASE_URL runs include the two raw variants.
if (process.env.DATABASE_URL) {
  const sql = postgres(url, { max: 10, onnotice: () => {} })
  results.push(await measure('baseline (main thread)', () => sql.unsafe(rawQuery, [], { prepare: true })))
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const postgres = require(workerData.postgresPath)
     const sql = postgres(workerData.url, { max: 10, onnotice: () => {} })
     parentPort.on('message', async ({ id }) => {
       const rows = await sql.unsafe(workerData.query, [], { prepare: true })
       parentPort.postMessage({ id, rows: [...rows] })
     })`,
    { eval: true, workerData: { url, query: rawQuery, postgresPath: new URL('../node_modules/postgres/cjs/src/index.js', import.meta.url).pathname } },
  )
  const pending = new Map()
  let nextId = 0
  worker.on('message', ({ id, rows }) => { pending.get(id)(rows); pending.delete(id) })
  results.push(await measure('cloned rows (worker)', () => new Promise((resolve) => {
    const id = nextId++
    pending.set(id, resolve)
    worker.postMessage({ id })
  })))
  await worker.terminate()
  await sql.end()
}
results.push(await measure('store: JSON text page (worker)', () => store.readStreamForward('bench')))
await store.stop()
await EventStore.drop(base)

const baseline = results[0]?.eventsPerSecond
console.log(`read a 100-event stream, ${READERS} concurrent readers × ${ROUNDS}`)
for (const r of results) {
  console.log(`${r.name.padEnd(34)} ${String(r.eventsPerSecond).padStart(8)} events/s  ${baseline ? `${(r.eventsPerSecond / baseline).toFixed(2)}× baseline` : ''}`)
}
