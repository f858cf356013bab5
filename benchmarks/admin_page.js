// The admin page's requests on a store of 10 million events: each endpoint the page calls,
// timed over HTTP (median and worst of 20), beside the same request on a store of 1,000
// events in the same run. The page only ever asks for one page of anything.
//
//   npm run build && DATABASE_URL=… node benchmarks/admin_page.js [--events N]
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EventStore, startAdminServer } from '../dist/lib/index.js'
import { benchmarkDatabase } from './database.js'
import { benchEvents, median, progress } from './harness.js'
import { seedEvents } from './seed.js'

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000000' }, keep: { type: 'boolean' } } })
const big = Number(values.events)
const REQUESTS = 20
const database = await benchmarkDatabase()

async function storeOf(schema, count) {
  const config = { url: database.url, schema, workers: 2, poolSize: 4 }
  const sql = postgres(database.url, { max: 2, onnotice: () => {}, connection: { search_path: schema } })
  const [{ seeded }] = await sql`SELECT count(*) > 0 AS seeded FROM information_schema.tables WHERE table_schema = ${schema} AND table_name = 'events'`
  const [{ last }] = seeded ? await sql`SELECT stream_version AS last FROM streams WHERE stream_id = 0` : [{ last: 0 }]
  if (Number(last) !== count) {
    await EventStore.drop(config)
    await EventStore.init(config)
    await seedEvents(sql, count, schema)
  }
  await sql.end()
  const store = await EventStore.start(config)
  await store.appendToStream('watched', 'any_version', benchEvents(30))
  const admin = await startAdminServer(store, { port: 0 })
  return { store, admin, count: count + 30 }
}

async function time(url) {
  const took = []
  for (let i = 0; i < REQUESTS; i += 1) {
    const started = performance.now()
    const response = await fetch(url)
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
    took.push(performance.now() - started)
  }
  return { median: median(took), worst: Math.max(...took) }
}

/** One tick of the live feed: the time to the first data frame. */
async function liveTick(url) {
  const took = []
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now()
    const response = await fetch(`${url}api/live`)
    const reader = response.body.getReader()
    let text = ''
    while (!text.includes('data:')) text += new TextDecoder().decode((await reader.read()).value)
    took.push(performance.now() - started)
    await reader.cancel()
  }
  return { median: median(took), worst: Math.max(...took) }
}

const requests = (count) => ({
  'streams, first page': 'api/streams?page=1&pageSize=25',
  'streams, last page': `api/streams?page=${Math.max(1, Math.ceil(count / 100 / 25))}&pageSize=25`,
  'streams, search': 'api/streams?search=watched',
  '$all, newest page': 'api/events?stream=%24all&direction=backward&from=-1&count=20',
  '$all, oldest page': 'api/events?stream=%24all&direction=forward&from=1&count=20',
  '$all, a page in the middle': `api/events?stream=%24all&direction=backward&from=${Math.floor(count / 2)}&count=20`,
  "a stream's events": 'api/events?stream=watched&direction=backward&from=-1&count=20',
  'status (subscriptions, writer)': 'api/status',
})

progress(`seeding ${big.toLocaleString('en')} events (reused when already there)`)
const small = await storeOf('bench_admin_small', 1000)
const large = await storeOf('bench_admin_large', big)
const rows = []
for (const [name, path] of Object.entries(requests(large.count))) {
  progress(name)
  rows.push([name, await time(small.admin.url + path.replace(/page=\d+&/, 'page=1&')), await time(large.admin.url + path)])
}
rows.push(['live feed, first frame', await liveTick(small.admin.url), await liveTick(large.admin.url)])
progress('')
for (const { store, admin } of [small, large]) {
  await admin.close()
  await store.stop()
}
if (!values.keep) for (const schema of ['bench_admin_small', 'bench_admin_large']) await EventStore.drop({ url: database.url, schema })
await database.release()

const ms = ({ median: m, worst }) => `${m.toFixed(1)} ms (worst ${worst.toFixed(1)})`
console.log(`Admin page requests over HTTP, median of ${REQUESTS} (live feed: of 5): 1,030 events against ${large.count.toLocaleString('en')}.\n`)
console.log(`| request | 1,030 events | ${large.count.toLocaleString('en')} events |`)
console.log('|---|---|---|')
for (const [name, a, b] of rows) console.log(`| ${name} | ${ms(a)} | ${ms(b)} |`)
