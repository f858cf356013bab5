// Server-side filters: catching up on 1,000,000 events of which 1% match, with the filter in
// SQL (the store's `filter`) against filtering in JavaScript (a `selector`, which receives
// every event), for a persistent subscription and for iterating $all. Each figure is the
// median of three runs; the table gives the JavaScript filter's time over the SQL filter's.
//
//   npm run build && DATABASE_URL=… node benchmarks/filter.js [--events N]
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { benchmarkDatabase } from './database.js'
import { median, progress } from './harness.js'
import { seedEvents } from './seed.js'

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } } })
const total = Number(values.events)
const MATCH_EVERY = 100
const matching = Math.floor(total / MATCH_EVERY)
const database = await benchmarkDatabase()
const config = { url: database.url, schema: 'bench_filter', workers: 2 }

await EventStore.drop(config)
await EventStore.init(config)
const sql = postgres(database.url, { max: 2, onnotice: () => {}, connection: { search_path: config.schema } })
await seedEvents(sql, total, 'filter', { matchEvery: MATCH_EVERY })
await sql.end()
const store = await EventStore.start(config)

let round = 0
/** Seconds until a new subscription from the origin has delivered (and acked) every match. */
async function catchUp(options) {
  const name = `catch-up-${(round += 1)}`
  const started = performance.now()
  let delivered = 0
  const done = new Promise((resolve) => {
    void store.subscribeToAllStreams(
      name,
      (message) => {
        if (message.type !== 'events') return
        delivered += message.events.length
        message.subscription.ack(message.events)
        if (delivered >= matching) resolve()
      },
      { bufferSize: 1000, maxSize: 5000, checkpointThreshold: 1000, ...options },
    )
  })
  await done
  const seconds = (performance.now() - started) / 1000
  await store.deleteSubscription('$all', name)
  return seconds
}

async function iterate(options, keep) {
  const started = performance.now()
  let found = 0
  for await (const event of store.streamAllForward(0, options)) if (keep(event)) found += 1
  if (found !== matching) throw new Error(`found ${found} of ${matching}`)
  return (performance.now() - started) / 1000
}

const variants = {
  'persistent subscription, catch-up': {
    sql: () => catchUp({ filter: { eventTypes: ['Matched'] } }),
    js: () => catchUp({ selector: (event) => event.eventType === 'Matched' }),
  },
  'streamAllForward': {
    sql: () => iterate({ filter: { eventTypes: ['Matched'] } }, () => true),
    js: () => iterate({}, (event) => event.eventType === 'Matched'),
  },
}
const rows = []
for (const [name, { sql: inSql, js }] of Object.entries(variants)) {
  const times = { sql: [], js: [] }
  for (let i = 0; i < Number(values.runs); i += 1) {
    progress(`${name}: run ${i + 1}`)
    times.sql.push(await inSql())
    times.js.push(await js())
  }
  rows.push([name, median(times.sql), median(times.js)])
}
progress('')
await store.stop()
await EventStore.drop(config)
await database.release()

console.log(`Catching up on ${total.toLocaleString('en')} events of which ${matching.toLocaleString('en')} (1%) match; median of ${values.runs} runs.\n`)
console.log('| workload | filter in SQL | filter in JavaScript | JavaScript / SQL |')
console.log('|---|---|---|---|')
for (const [name, a, b] of rows) console.log(`| ${name} | ${a.toFixed(2)} s | ${b.toFixed(2)} s | ${(b / a).toFixed(1)}× |`)
