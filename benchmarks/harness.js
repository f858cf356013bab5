// The suite's harness: warm-up, repeated runs, medians and percentiles, the raw baseline beside
// each result, a table or JSON lines on stdout, progress on stderr.
import { availableParallelism, totalmem } from 'node:os'

export const percentile = (sorted, p) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))])
export const median = (values) => percentile([...values].sort((a, b) => a - b), 50)

const tty = process.stderr.isTTY
export function progress(text) {
  if (tty) process.stderr.write(`\r\x1b[K${text}`)
  else if (text) process.stderr.write(`${text}\n`)
}

/** The median run by rate of { events, operations, seconds, latencies, extra } runs. */
function summarize(results) {
  const sorted = [...results].sort((a, b) => a.events / a.seconds - b.events / b.seconds)
  const middle = sorted[Math.floor(sorted.length / 2)]
  const latencies = [...(middle.latencies ?? [])].sort((a, b) => a - b)
  return {
    eventsPerSecond: middle.events / middle.seconds,
    operationsPerSecond: (middle.operations ?? middle.events) / middle.seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    extra: middle.extra ?? {},
  }
}

/**
 * The store and its raw baseline, measured the same way: { store, baseline }, each the
 * median of `runs` runs after `warmup` unmeasured ones. A run returns { events, operations,
 * seconds, latencies, extra }. Store and baseline runs alternate (store, baseline, store,
 * …), so both see the same spells of machine noise and the ratio does not depend on which
 * of the two happened to run during a busy moment.
 */
export async function compare(name, storeRun, baselineRun, { runs = 3, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i += 1) {
    progress(`${name}: warm-up`)
    await storeRun()
    await baselineRun()
  }
  const store = []
  const baseline = []
  for (let i = 0; i < runs; i += 1) {
    progress(`${name}: run ${i + 1} of ${runs}`)
    store.push(await storeRun())
    baseline.push(await baselineRun())
  }
  progress('')
  // Run i of the store against run i of the baseline, which ran right after it: how far the
  // ratio moves from pair to pair shows how much the machine's noise weighs on it.
  const rate = (run) => run.events / run.seconds
  const ratios = store.map((run, i) => rate(run) / rate(baseline[i])).sort((a, b) => a - b)
  return { store: summarize(store), baseline: summarize(baseline), ratios }
}

/** Times `work` and the latency of each of its operations (call `time(fn)` around each one). */
export async function timed(work) {
  const latencies = []
  const time = async (fn) => {
    const started = performance.now()
    const value = await fn()
    latencies.push(performance.now() - started)
    return value
  }
  const started = performance.now()
  const { events, operations, extra } = await work(time)
  return { events, operations, seconds: (performance.now() - started) / 1000, latencies, extra }
}

export async function machine(sql) {
  const [{ version }] = await sql`SELECT current_setting('server_version') AS version`
  return { cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: version }
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–')

/** One result line: the store's figures, the baseline's, and their ratio. */
export function row(result) {
  const { name, unit, store, baseline, target, ratios = [] } = result
  const ratio = baseline ? store.eventsPerSecond / baseline.eventsPerSecond : Number.NaN
  const spread = ratios.length > 1 ? ` (runs ${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)})` : ''
  return {
    name,
    unit,
    store: fmt(store[unit === 'appends/s' ? 'operationsPerSecond' : 'eventsPerSecond']),
    baseline: baseline ? fmt(baseline[unit === 'appends/s' ? 'operationsPerSecond' : 'eventsPerSecond']) : '–',
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×${spread}` : '–',
    latency: Number.isFinite(store.p50) ? `${fmt(store.p50, 1)} / ${fmt(store.p99, 1)} ms` : '–',
    target: target ?? '',
    notes: Object.entries(store.extra).map(([k, v]) => `${k} ${v}`).join(', '),
  }
}

export function table(rows) {
  const header = ['workload', 'store', 'baseline', 'store / baseline', 'p50 / p99', 'target', 'notes']
  const lines = rows.map((r) => [r.name, `${r.store} ${r.unit}`, `${r.baseline} ${r.baseline === '–' ? '' : r.unit}`.trim(), r.ratio, r.latency, r.target, r.notes])
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

const payload = 'x'.repeat(150)
/** The suite's event (README.md, Workloads): a ~36-character type, a small object, fresh ids. */
export function benchEvent(n) {
  return {
    eventType: 'Elixir.EventStore.Bench.SomethingHappened',
    data: { event: n, payload },
    metadata: { user: 'user@example.com' },
    correlationId: crypto.randomUUID(),
    causationId: crypto.randomUUID(),
  }
}

export const benchEvents = (count) => Array.from({ length: count }, (_, n) => benchEvent(n))

/** Repeats `round` until at least `seconds` have passed; sums what the rounds return. */
export async function repeatFor(seconds, round) {
  const deadline = performance.now() + seconds * 1000
  let events = 0
  let operations = 0
  do {
    const done = await round()
    events += done.events
    operations += done.operations
  } while (performance.now() < deadline)
  return { events, operations }
}
