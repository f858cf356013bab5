// A fleet of processes writing to one store: P processes × (W / P) writers, each appending E
// events at a time to brand-new streams (expected version 0), for P = 1, 2, 4, 8 and E = 1, 100.
// Beside each fleet, the raw baseline run the same way: P processes, the same writers, the
// baseline's one statement per append into a table with the store's unique indexes. Reported:
// the fleet's appends/s, against one process with all the writers (P = 1), and against raw;
// how many appends each write transaction carried, and how busy the machine's cores were.
// Usage: npm run build && node benchmarks/fleet.js [--seconds 3] [--runs 2] [--writers 40] [--processes 1,2,4,8]
//        (DATABASE_URL or the embedded server)
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { createBaselineTables } from './baseline.js'
import { benchmarkDatabase } from './database.js'
import { machine, median, percentile, progress } from './harness.js'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, runs: { type: 'string', default: '2' }, writers: { type: 'string', default: '40' }, processes: { type: 'string', default: '1,2,4,8' } },
})
const seconds = Number(values.seconds)
const runs = Number(values.runs)
const totalWriters = Number(values.writers)
const processCounts = values.processes.split(',').map(Number)
const STORE_SCHEMA = 'bench_fleet'
const RAW_SCHEMA = 'bench_fleet_raw'

/** Busy and total CPU time of the whole machine so far, from /proc/stat (null elsewhere). */
function cpuTimes() {
  try {
    const [user, nice, system, idle, iowait, ...rest] = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number)
    const total = [user, nice, system, idle, iowait, ...rest].reduce((sum, n) => sum + n, 0)
    return { busy: total - idle - iowait, total }
  } catch {
    return null
  }
}

/** The next transaction id the server will hand out: how many write transactions ran between two readings. */
async function nextTransactionId(sql) {
  const [{ next }] = await sql`SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next`
  return Number(next)
}

/** P writer processes in `mode`, connected and waiting for 'go'. */
async function startFleet(mode, url, processes, eventsPerAppend, admin) {
  const schema = mode === 'store' ? STORE_SCHEMA : RAW_SCHEMA
  const writers = Math.ceil(totalWriters / processes)
  const children = Array.from({ length: processes }, () =>
    fork(new URL('./fleet_writer.js', import.meta.url), [mode, url, schema, String(writers), String(eventsPerAppend)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  const next = (child, type) =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`a ${mode} fleet process exited with ${code}`))
      child.once('exit', onExit)
      child.once('message', (message) => {
        child.off('exit', onExit)
        if (message.type === type) resolve(message)
        else reject(new Error(`expected ${type} from a ${mode} fleet process, got ${message.type}`))
      })
    })
  await Promise.all(children.map((child) => next(child, 'ready')))
  return {
    /** One run: every process writes for `seconds`, all starting together. */
    async run() {
      const done = children.map((child) => next(child, 'done'))
      const xidBefore = await nextTransactionId(admin)
      const cpuBefore = cpuTimes()
      for (const child of children) child.send({ type: 'go', seconds })
      const results = await Promise.all(done)
      const cpuAfter = cpuTimes()
      const transactions = (await nextTransactionId(admin)) - xidBefore
      const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b)
      const appends = results.reduce((sum, r) => sum + r.appends, 0)
      const busy = cpuBefore && cpuAfter ? (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total) : Number.NaN
      return { perSecond: appends / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), perTransaction: appends / transactions, busy }
    },
    async stop() {
      await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.send({ type: 'stop' })))))
    },
  }
}

const { url, release } = await benchmarkDatabase()
const config = { url, schema: STORE_SCHEMA }
const admin = postgres(url, { max: 1, onnotice: () => {} })
const rows = []
try {
  await EventStore.drop(config)
  await EventStore.init(config)
  await createBaselineTables(admin, RAW_SCHEMA)
  const host = await machine(admin)
  for (const eventsPerAppend of [1, 100]) {
    let oneProcess = null
    for (const processes of processCounts) {
      const label = `${processes} × ${Math.ceil(totalWriters / processes)} writers, ${eventsPerAppend}-event appends`
      progress(`${label}: starting`)
      const store = await startFleet('store', url, processes, eventsPerAppend, admin)
      const raw = await startFleet('raw', url, processes, eventsPerAppend, admin)
      const storeRuns = []
      const rawRuns = []
      // Warm-up, then store and raw runs alternating, so both see the same spells of noise.
      await store.run()
      await raw.run()
      for (let i = 0; i < runs; i += 1) {
        progress(`${label}: run ${i + 1} of ${runs}`)
        storeRuns.push(await store.run())
        rawRuns.push(await raw.run())
      }
      await Promise.all([store.stop(), raw.stop()])
      const storeRate = median(storeRuns.map((r) => r.perSecond))
      const rawRate = median(rawRuns.map((r) => r.perSecond))
      if (processes === 1) oneProcess = storeRate
      const ratios = storeRuns.map((r, i) => r.perSecond / rawRuns[i].perSecond).sort((a, b) => a - b)
      rows.push({
        fleet: label,
        store: `${Math.round(storeRate).toLocaleString('en-US')} appends/s`,
        'vs one process': oneProcess ? `${(storeRate / oneProcess).toFixed(2)}×` : '–',
        raw: `${Math.round(rawRate).toLocaleString('en-US')} appends/s`,
        'store / raw': `${(storeRate / rawRate).toFixed(2)}× (runs ${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)})`,
        'p50 / p99': `${median(storeRuns.map((r) => r.p50)).toFixed(1)} / ${median(storeRuns.map((r) => r.p99)).toFixed(1)} ms`,
        'appends / transaction': median(storeRuns.map((r) => r.perTransaction)).toFixed(1),
        'CPU busy (store / raw)': `${Math.round(median(storeRuns.map((r) => r.busy)) * 100)}% / ${Math.round(median(rawRuns.map((r) => r.busy)) * 100)}%`,
      })
    }
  }
  progress('')
  console.log(`${host.cores} cores, Node ${host.node}, PostgreSQL ${host.postgres}; ${runs} run(s) of ${seconds} s per fleet, medians\n`)
  const header = Object.keys(rows[0])
  console.log([header, header.map(() => '---'), ...rows.map((r) => Object.values(r))].map((cells) => `| ${cells.join(' | ')} |`).join('\n'))
} finally {
  progress('')
  await EventStore.drop(config)
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${RAW_SCHEMA} CASCADE`)
  await admin.end()
  await release()
}
