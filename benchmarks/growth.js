// "growth" (append and read latency on an empty store and after seeding 5,000,000 events,
// as after / before) and "read $all" (streamAllForward over 1,000,000 of those events,
// with peak memory) — benchmarks/README.md, Workloads. They share one seeded store in its own schema.
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { benchEvents, compare, median, timed } from './harness.js'
import { seedEvents } from './seed.js'

export function growthWorkloads({ url, quick, runs }) {
  const SEEDED = quick ? 200_000 : 5_000_000
  const READ_ALL = Math.min(1_000_000, SEEDED)
  const config = { url, schema: 'bench_growth', workers: 2 }
  let round = 0

  /** Median append (100 events, new stream) and read (that stream) latency over 200 samples. */
  async function latencies(store) {
    const appends = []
    const reads = []
    for (let i = 0; i < (quick ? 50 : 200); i += 1) {
      const stream = `probe-${(round += 1)}`
      let started = performance.now()
      await store.appendToStream(stream, 0, benchEvents(100))
      appends.push(performance.now() - started)
      started = performance.now()
      await store.readStreamForward(stream)
      reads.push(performance.now() - started)
    }
    return { append: median(appends), read: median(reads) }
  }

  let seeded = null
  /** Seeds once; returns the latencies before and after, and leaves the store to read $all from. */
  const prepare = () => {
    seeded ??= (async () => {
      await EventStore.drop(config)
      await EventStore.init(config)
      const sql = postgres(url, { max: 2, onnotice: () => {}, connection: { search_path: config.schema } })
      let store = await EventStore.start(config)
      await latencies(store)
      const before = await latencies(store)
      await seedEvents(sql, SEEDED, 'growth')
      await store.stop()
      store = await EventStore.start(config)
      await latencies(store)
      const after = await latencies(store)
      return { sql, store, before, after }
    })()
    return seeded
  }

  const growth = {
    name: `growth, empty → ${SEEDED.toLocaleString('en')} events`,
    unit: 'after / before',
    target: '≤ 1.5×',
    async run() {
      const { before, after } = await prepare()
      return {
        custom: {
          store: `append p50 ${before.append.toFixed(2)} → ${after.append.toFixed(2)} ms (${(after.append / before.append).toFixed(2)}×)`,
          baseline: `read p50 ${before.read.toFixed(2)} → ${after.read.toFixed(2)} ms (${(after.read / before.read).toFixed(2)}×)`,
          ratio: `${(after.append / before.append).toFixed(2)}× / ${(after.read / before.read).toFixed(2)}×`,
        },
        json: { before, after },
      }
    },
  }

  const readAll = {
    name: `read $all, ${READ_ALL.toLocaleString('en')} events`,
    unit: 'events/s',
    target: '≥ 0.8×, memory flat',
    async run() {
      const { sql, store } = await prepare()
      const storeRun = () => timed(async () => {
        const rss = process.memoryUsage().rss
        let peak = rss
        let count = 0
        for await (const _ of store.streamAllForward(0, { readBatchSize: 1000 })) {
          count += 1
          if (count % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss)
          if (count >= READ_ALL) break
        }
        return { events: count, operations: count, extra: { 'memory growth': `${((peak - rss) / 2 ** 20).toFixed(0)} MiB` } }
      })
      const baselineRun = () => timed(async () => {
        let count = 0
        for (let from = 1; count < READ_ALL; ) {
          const rows = await sql`SELECT e.*, s.stream_uuid FROM events e JOIN streams s USING (stream_id) WHERE global_position >= ${from} ORDER BY global_position LIMIT 1000`
          if (rows.length === 0) break
          count += rows.length
          from = Number(rows.at(-1).global_position) + 1
        }
        return { events: count, operations: count }
      })
      return compare(this.name, storeRun, baselineRun, { runs: Math.min(runs, 3), warmup: 0 })
    },
  }

  const cleanup = async () => {
    if (!seeded) return
    const { sql, store } = await seeded
    await store.stop()
    await sql.end()
    await EventStore.drop(config)
  }
  return { workloads: [growth, readAll], cleanup }
}
