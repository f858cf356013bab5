// `npm run bench` / `pg-eventstore bench`: every workload of benchmarks/README.md beside its raw
// baseline, as a table (default) or JSON lines (--json). --only NAME runs the workloads whose
// name contains NAME; --quick runs each for a few seconds. A full run rewrites RESULTS.md.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { EventStore } from '../dist/lib/index.js'
import { appendWorkloads } from './append.js'
import { openBaseline } from './baseline.js'
import { benchmarkDatabase } from './database.js'
import { growthWorkloads } from './growth.js'
import { machine, progress, row, table } from './harness.js'
import { httpWorkloads } from './http_service.js'
import { readWorkloads } from './read.js'
import { subscribeWorkloads } from './subscribe.js'
import { subscribeAllWorkloads } from './subscribe_all.js'

const { values } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string' }, quick: { type: 'boolean' } } })
const quick = values.quick === true
const settings = { seconds: quick ? 0.3 : 1, runs: quick ? 1 : 3 }

const { url, release } = await benchmarkDatabase()
const config = { url, schema: 'bench_store', workers: 2 }
await EventStore.drop(config)
await EventStore.init(config)
const store = await EventStore.start(config)
const raw = await openBaseline(url)
const host = await machine(raw.sql)
const growth = growthWorkloads({ url, quick, runs: settings.runs })
const workloads = [
  ...appendWorkloads({ store, raw, ...settings }),
  ...readWorkloads({ store, raw, ...settings }),
  ...subscribeWorkloads({ store, raw, ...settings }),
  ...subscribeAllWorkloads({ store, raw, ...settings }),
  ...httpWorkloads({ url, ...settings }),
  ...growth.workloads,
].filter((w) => !values.only || w.name.includes(values.only))

const rows = []
const started = Date.now()
try {
  for (const workload of workloads) {
    progress(`${workload.name}…`)
    const result = await workload.run()
    const line = result.custom
      ? { name: workload.name, unit: workload.unit, store: result.custom.store, baseline: result.custom.baseline, ratio: result.custom.ratio, latency: '–', target: workload.target, notes: '' }
      : row({ name: workload.name, unit: workload.unit, target: workload.target, ...result })
    rows.push(line)
    if (values.json) console.log(JSON.stringify({ ...line, raw: result.json ?? { store: result.store, baseline: result.baseline }, machine: host }))
  }
} finally {
  progress('')
  await growth.cleanup()
  await store.stop()
  await EventStore.drop(config)
  await raw.close()
  await release()
}

const minutes = ((Date.now() - started) / 60_000).toFixed(1)
const heading = `${new Date().toISOString().slice(0, 10)}, ${host.cores} cores, ${host.memoryGiB} GiB, Node ${host.node}, PostgreSQL ${host.postgres}; ${quick ? 'quick' : 'full'} run in ${minutes} min; medians of ${settings.runs} run(s), p50 / p99 per operation`
if (!values.json) console.log(`${heading}\n\n${table(rows)}`)
if (!quick && !values.only) {
  writeFileSync(
    new URL('./RESULTS.md', import.meta.url),
    `# Benchmark results\n\nWritten by \`npm run bench\` (benchmarks/run.js). ${heading}.\nRatios are store / raw baseline of the same run; see benchmarks/README.md for the workloads.\n\n${table(rows)}\n`,
  )
}
