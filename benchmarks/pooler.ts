// Throughput through a transaction-mode pooler against a direct connection: the same store
// three ways, each measured against the direct one (prepared statements, the default) in the
// same run, runs alternating: direct with prepare: false (what dropping named statements
// costs alone), and through a PgBouncer of its own in transaction mode with prepare: false
// (url: the pooler, sessionUrl: the server). Workloads: 100-event appends by 10 writers,
// single-event appends by 50 writers, reads of a 100-event stream by 20 readers.
// Usage: DATABASE_URL=postgres://root@127.0.0.1:5432/root node --import tsx benchmarks/pooler.ts   # --seconds 3 --runs 3
//        (needs Debian's pgbouncer: apt-get install pgbouncer)
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EventStore } from '../lib/event_store.js'
import { hasPgBouncer, runPgBouncer } from '../test/helpers/pgbouncer.js'
// @ts-expect-error the suite's harness is plain JavaScript
import { benchEvents, compare, machine, repeatFor, row, table, timed } from './harness.js'
// @ts-expect-error the suite's database helper is plain JavaScript
import { benchmarkDatabase } from './database.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } } })
const seconds = Number(values.seconds)
const runs = Number(values.runs)
const SCHEMA = 'bench_pooler'

if (!hasPgBouncer()) throw new Error('benchmarks/pooler.ts needs pgbouncer (apt-get install pgbouncer)')
const { url, release } = (await benchmarkDatabase()) as { url: string; release: () => Promise<void> }
const admin = postgres(url, { max: 1, onnotice: () => {} })
await admin.unsafe(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`)
await EventStore.init({ url, schema: SCHEMA })
const bouncer = await runPgBouncer(url, { poolSize: 20 })

const shared = { schema: SCHEMA, workers: 2, poolSize: 6, openTelemetry: false }
const direct = await EventStore.start({ ...shared, url })
const unprepared = await EventStore.start({ ...shared, url, prepare: false })
const pooled = await EventStore.start({ ...shared, url: bouncer.url, sessionUrl: url, prepare: false })

type Time = <T>(fn: () => Promise<T>) => Promise<T>
let next = 0
const newStream = (prefix: string) => `${prefix}-${process.pid}-${(next += 1)}`

const workloads = [
  {
    name: 'append events, 10 concurrent writers',
    unit: 'events/s',
    run: (store: EventStore) => (time: Time) =>
      repeatFor(seconds, async () => {
        await Promise.all(Array.from({ length: 10 }, () => time(() => store.appendToStream(newStream('append'), 0, benchEvents(100)))))
        return { events: 1000, operations: 10 }
      }),
  },
  {
    name: 'single-event appends, 50 concurrent writers',
    unit: 'appends/s',
    run: (store: EventStore) => async (time: Time) => {
      const deadline = performance.now() + seconds * 1000
      const counts = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const stream = newStream('single')
          let version = 0
          while (performance.now() < deadline) {
            await time(() => store.appendToStream(stream, version, benchEvents(1)))
            version += 1
          }
          return version
        }),
      )
      const appends = counts.reduce((a, b) => a + b, 0)
      return { events: appends, operations: appends }
    },
  },
  {
    name: 'read events, 20 concurrent readers',
    unit: 'events/s',
    run: (store: EventStore) => (time: Time) =>
      repeatFor(seconds, async () => {
        await Promise.all(Array.from({ length: 20 }, () => time(() => store.readStreamForward('read-me', 0, 100))))
        return { events: 2000, operations: 20 }
      }),
  },
]

await direct.appendToStream('read-me', 'no_stream', benchEvents(100))
const rows: unknown[] = []
try {
  for (const workload of workloads) {
    for (const [label, store] of [
      ['direct, prepare: false', unprepared],
      ['PgBouncer (transaction mode), prepare: false', pooled],
    ] as const) {
      const name = `${workload.name}: ${label}`
      const result = await compare(name, () => timed(workload.run(store)), () => timed(workload.run(direct)), { runs })
      rows.push(row({ name, unit: workload.unit, ...result }))
    }
  }
  console.log(`${JSON.stringify(await machine(admin))}; baseline: the same store direct, prepared statements; ${runs} runs of ${seconds} s, medians`)
  console.log(table(rows))
  console.log(`connections of the pooled store: ${JSON.stringify((await pooled.status()).connections)}`)
} finally {
  await Promise.all([direct.stop(), unprepared.stop(), pooled.stop()])
  await bouncer.end()
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`)
  await admin.end()
  await release()
}
