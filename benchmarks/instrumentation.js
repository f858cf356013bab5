// What the instrumentation costs: appends and reads of this build with nobody listening, with
// every tracing channel subscribed, and with the OpenTelemetry SDK recording spans and
// metrics, each against the same workload on an older build (--before) or, without one,
// against this build unobserved. All variants run in one process and alternate in short runs,
// so they share the machine's noise; the figure is the median of the per-pair ratios.
//
//   npm run build && DATABASE_URL=… node benchmarks/instrumentation.js [--before DIR] [--pairs N] [--seconds S]
//
// DIR is the root of another checkout with a build (dist/), e.g. of the commit before.
import { subscribe, tracingChannel } from 'node:diagnostics_channel'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { benchmarkDatabase } from './database.js'
import { benchEvents, median, progress, repeatFor } from './harness.js'

const { values } = parseArgs({ options: { before: { type: 'string' }, pairs: { type: 'string', default: '10' }, seconds: { type: 'string', default: '1' } } })
const pairs = Number(values.pairs)
const seconds = Number(values.seconds)

const database = await benchmarkDatabase()
const load = async (root) => (await import(pathToFileURL(join(resolve(root), 'dist', 'lib', 'index.js')).href)).EventStore
const Current = await load('.')
const Before = values.before ? await load(values.before) : Current

async function freshStore(EventStore, schema) {
  const config = { url: database.url, schema, workers: 2, poolSize: 10 }
  await EventStore.drop(config)
  await EventStore.init(config)
  const store = await EventStore.start(config)
  await store.appendToStream('read-bench', 'any_version', benchEvents(100))
  return store
}

let next = 0
const workloads = {
  'append, 10 writers × 100 events': (store) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 10 }, () => store.appendToStream(`a-${(next += 1)}`, 0, benchEvents(100))))
      return { events: 1000 }
    }),
  'single-event appends, 100 writers': (store) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 100 }, () => store.appendToStream(`s-${(next += 1)}`, 0, benchEvents(1))))
      return { events: 100 }
    }),
  'read a 100-event stream, 10 readers': (store) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 10 }, () => store.readStreamForward('read-bench')))
      return { events: 1000 }
    }),
}

const channelNames = ['append', 'link', 'read', 'delete', 'delivery'].map((name) => tracingChannel(`pg-eventstore:${name}`))
const noop = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} }
const listening = (on) => {
  for (const channel of channelNames) on ? channel.subscribe(noop) : channel.unsubscribe(noop)
}

/** Rates of `variants` (name → () => run), alternating, `pairs` times; returns median ratios to the first. */
async function alternate(title, workload, variants) {
  const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
  for (const run of Object.values(variants)) await run() // warm-up
  for (let i = 0; i < pairs; i += 1) {
    progress(`${title} · ${workload}: ${i + 1}/${pairs}`)
    for (const [name, run] of Object.entries(variants)) {
      const started = performance.now()
      const { events } = await run()
      rates[name].push(events / ((performance.now() - started) / 1000))
    }
  }
  const [base, ...others] = Object.keys(variants)
  const ratio = (name) => median(rates[name].map((rate, i) => rate / rates[base][i]))
  return { rates: Object.fromEntries(Object.entries(rates).map(([name, r]) => [name, median(r)])), ratios: Object.fromEntries(others.map((name) => [name, ratio(name)])) }
}

const before = await freshStore(Before, 'bench_instr_before')
const current = await freshStore(Current, 'bench_instr_now')
const rows = []
for (const [name, workload] of Object.entries(workloads)) {
  const result = await alternate('phase 1', name, {
    before: () => workload(before),
    now: () => workload(current),
    channels: async () => {
      listening(true)
      try {
        return await workload(current)
      } finally {
        listening(false)
      }
    },
  })
  rows.push({ name, ...result })
}

// Phase 2: an SDK registered before a store starts makes it report; the channel handlers are
// per process, so the unobserved build's runs are over by now.
const api = await import('@opentelemetry/api')
const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics')
let spansExported = 0
const dropSpans = { export: (spans, done) => ((spansExported += spans.length), done({ code: 0 })), shutdown: async () => {} }
const dropMetrics = { export: (_, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {}, selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE }
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] })
api.trace.setGlobalTracerProvider(tracerProvider)
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1000 })] })
api.metrics.setGlobalMeterProvider(meterProvider)
const traced = await freshStore(Current, 'bench_instr_otel')
for (const row of rows) {
  const result = await alternate('phase 2', row.name, { before: () => workloads[row.name](before), otel: () => workloads[row.name](traced) })
  row.rates.otel = result.rates.otel
  row.ratios.otel = result.ratios.otel
}
progress('')
await Promise.all([before.stop(), current.stop(), traced.stop()])
await tracerProvider.shutdown()
await meterProvider.shutdown()
await database.release()

const pct = (ratio) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`
const base = values.before ? `the build in ${values.before}` : 'this build, unobserved'
console.log(`Instrumentation cost: ${pairs} alternating pairs of ${seconds} s runs per variant; each figure is the median of the per-pair rate ratios against ${base}.`)
console.log(`${spansExported.toLocaleString('en')} spans recorded and exported in the OpenTelemetry phase.\n`)
console.log('| workload | base (events/s) | now, nobody listening | every channel subscribed | OpenTelemetry SDK recording |')
console.log('|---|---|---|---|---|')
for (const row of rows) {
  console.log(`| ${row.name} | ${Math.round(row.rates.before).toLocaleString('en')} | ${pct(row.ratios.now)} | ${pct(row.ratios.channels)} | ${pct(row.ratios.otel)} |`)
}
