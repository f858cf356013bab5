// The store's own counters and histograms: what store.metrics() returns, and what the
// OpenTelemetry bridge (otel.ts) reports. Counting is a few additions per call, so it is
// always on; nothing here allocates per event.
import type { StoreReport } from '../reports.js'

/** Upper bounds of the latency buckets, in milliseconds. */
const LATENCY_BOUNDS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
/** Upper bounds of the batch-size buckets, in requests per batch. */
const BATCH_BOUNDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

export interface HistogramSnapshot {
  count: number
  sum: number
  min: number | null
  max: number | null
  /** Estimated from the buckets: the upper bound of the bucket holding that rank. */
  p50: number | null
  p99: number | null
  /** Bucket upper bounds and how many values fell at or below each (the last is +Infinity). */
  buckets: { le: number; count: number }[]
}

export class Histogram {
  readonly #bounds: number[]
  readonly #counts: number[]
  #count = 0
  #sum = 0
  #min = Number.POSITIVE_INFINITY
  #max = Number.NEGATIVE_INFINITY

  constructor(bounds: number[]) {
    this.#bounds = bounds
    this.#counts = new Array<number>(bounds.length + 1).fill(0)
  }

  record(value: number): void {
    let i = 0
    while (i < this.#bounds.length && value > (this.#bounds[i] as number)) i += 1
    this.#counts[i] = (this.#counts[i] as number) + 1
    this.#count += 1
    this.#sum += value
    if (value < this.#min) this.#min = value
    if (value > this.#max) this.#max = value
  }

  snapshot(): HistogramSnapshot {
    const bounds = [...this.#bounds, Number.POSITIVE_INFINITY]
    const quantile = (q: number): number | null => {
      if (this.#count === 0) return null
      let seen = 0
      for (let i = 0; i < bounds.length; i += 1) {
        seen += this.#counts[i] as number
        if (seen >= q * this.#count) return Math.min(bounds[i] as number, this.#max)
      }
      return this.#max
    }
    return {
      count: this.#count,
      sum: this.#sum,
      min: this.#count ? this.#min : null,
      max: this.#count ? this.#max : null,
      p50: quantile(0.5),
      p99: quantile(0.99),
      buckets: bounds.map((le, i) => ({ le, count: this.#counts[i] as number })),
    }
  }
}

/** Totals since the store started; a rate is the difference of two snapshots over their time. */
export interface Counters {
  appends: number
  eventsAppended: number
  links: number
  deletes: number
  /** Write requests that failed (any error, including wrong expected version). */
  writeErrors: number
  reads: number
  eventsRead: number
  deliveries: number
  eventsDelivered: number
  /** Reports of the store's 'warning' and 'error' channel (lib/reports.ts). */
  warnings: number
  errors: number
}

/** A report of the store, as status() keeps the latest ones. */
export type RecentReport = StoreReport & { at: Date }

/** Reports kept for status() and the admin page. */
const RECENT_REPORTS = 20

export interface MetricsSnapshot {
  /** When the snapshot was taken (ms since the epoch). */
  at: number
  counters: Counters
  writer: { queued: number; batches: number; lastCommitAt: Date | null }
  /** Requests per committed batch (the group-commit factor). */
  batchSize: HistogramSnapshot
  /** From a batch leaving the writer's queue to its commit, in ms. */
  commitLatency: HistogramSnapshot
  /** From a read's call to its decoded result, in ms. */
  readLatency: HistogramSnapshot
  /** Busy share of the reader worker threads since start, 0 to 1. */
  workerUtilization: number
}

/** Hears each recorded value as well; the OpenTelemetry bridge plugs in here. */
export interface MetricsSink {
  batch(requests: number, ms: number): void
  read(ms: number): void
}

export class StoreMetrics {
  readonly counters: Counters = {
    appends: 0,
    eventsAppended: 0,
    links: 0,
    deletes: 0,
    writeErrors: 0,
    reads: 0,
    eventsRead: 0,
    deliveries: 0,
    eventsDelivered: 0,
    warnings: 0,
    errors: 0,
  }
  /** The latest reports, oldest first. */
  readonly recentReports: RecentReport[] = []
  readonly batchSize = new Histogram(BATCH_BOUNDS)
  readonly commitLatency = new Histogram(LATENCY_BOUNDS_MS)
  readonly readLatency = new Histogram(LATENCY_BOUNDS_MS)
  lastCommitAt: Date | null = null
  sink: MetricsSink | null = null

  /** A batch of `requests` write requests committed, `ms` after it was sent. */
  committed(requests: number, ms: number): void {
    this.lastCommitAt = new Date()
    this.batchSize.record(requests)
    this.commitLatency.record(ms)
    this.sink?.batch(requests, ms)
  }

  read(events: number, ms: number): void {
    this.counters.reads += 1
    this.counters.eventsRead += events
    this.readLatency.record(ms)
    this.sink?.read(ms)
  }

  reported(report: StoreReport): void {
    if (report.level === 'error') this.counters.errors += 1
    else this.counters.warnings += 1
    this.recentReports.push({ ...report, at: new Date() })
    if (this.recentReports.length > RECENT_REPORTS) this.recentReports.shift()
  }

  delivered(events: number): void {
    this.counters.deliveries += 1
    this.counters.eventsDelivered += events
  }
}
