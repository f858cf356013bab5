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

async function freshStore(EventStore, schema, options = {}) {
  const config = { url: database.url, schema, workers: 2, poolSize: 10, ...options }
  await EventStore.drop(config)
  await EventStore.init(config)
  const store = await EventStore.start(config)
  await store.appendToStream('read-bench', 'any_version', benchEvents(100))
  return store
}

let next = 0
const direct = (call) => call()
/** Each workload takes the store and how to make each call (directly, or inside a caller's span). */
const workloads = {
  'append, 10 writers × 100 events': (store, call = direct) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 10 }, () => call(() => store.appendToStream(`a-${(next += 1)}`, 0, benchEvents(100)))))
      return { events: 1000 }
    }),
  'single-event appends, 100 writers': (store, call = direct) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 100 }, () => call(() => store.appendToStream(`s-${(next += 1)}`, 0, benchEvents(1)))))
      return { events: 100 }
    }),
  'read a 100-event stream, 10 readers': (store, call = direct) =>
    repeatFor(seconds, async () => {
      await Promise.all(Array.from({ length: 10 }, () => call(() => store.readStreamForward('read-bench'))))
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
  const entries = Object.entries(variants)
  for (let i = 0; i < pairs; i += 1) {
    progress(`${title} · ${workload}: ${i + 1}/${pairs}`)
    // Each pair starts with another variant, so none always runs first.
    for (const [name, run] of [...entries.slice(i % entries.length), ...entries.slice(0, i % entries.length)]) {
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
const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
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
const tracer = api.trace.getTracer('benchmark')
/** As a service calls the store: inside the span of the request it serves. */
const inRequestSpan = (call) => tracer.startActiveSpan('request', (span) => call().finally(() => span.end()))
for (const row of rows) {
  const result = await alternate('phase 2', row.name, {
    before: () => workloads[row.name](before),
    otel: () => workloads[row.name](traced),
    inTrace: () => workloads[row.name](traced, inRequestSpan),
  })
  Object.assign(row.rates, result.rates)
  Object.assign(row.ratios, result.ratios)
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
console.log('| workload | base (events/s) | now, nobody listening | every channel subscribed | OpenTelemetry SDK recording | the same, each call inside a caller span (appends stamp $traceparent) |')
console.log('|---|---|---|---|---|---|')
for (const row of rows) {
  const cells = [row.ratios.now, row.ratios.channels, row.ratios.otel, row.ratios.inTrace].map(pct)
  console.log(`| ${row.name} | ${Math.round(row.rates.before).toLocaleString('en')} | ${cells.join(' | ')} |`)
}
