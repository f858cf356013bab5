// Where every report of a store ends up: its 'warning' / 'error' listeners, the logger, the
// diagnostics channel and the metrics. Reports of the store's worker threads arrive on a
// BroadcastChannel of the store's own and are relayed the same way.
import { BroadcastChannel } from 'node:worker_threads'
import { type Logger, makeReport, publish, type Report, reportChannelName, type ReportLevel, type StoreReport } from '../reports.js'
import { driverIsGuarded, warnUnguardedDriver } from '../storage/driver_guard.js'
import type { StoreMetrics } from './metrics.js'

/** The store as an emitter of reports. */
export interface ReportListeners {
  listenerCount(level: ReportLevel): number
  emit(level: ReportLevel, report: StoreReport): boolean
}

export class ReportRelay {
  readonly #listeners: ReportListeners
  readonly #logger: Logger | null
  readonly #metrics: StoreMetrics
  readonly #fromWorkers: BroadcastChannel
  /** Reports on this relay; handed to every part of the store. */
  readonly report: Report = (level, source, text, error, details) => this.relay(makeReport(level, source, text, error, details))

  constructor(listeners: ReportListeners, logger: Logger | null, metrics: StoreMetrics, storeId: string) {
    this.#listeners = listeners
    this.#logger = logger
    this.#metrics = metrics
    this.#fromWorkers = new BroadcastChannel(reportChannelName(storeId))
    this.#fromWorkers.unref()
    this.#fromWorkers.onmessage = (message) => this.relay((message as { data: StoreReport }).data)
  }

  /**
   * Tells every listener, the logger and the diagnostics channel. An 'error' nobody listens
   * to is not emitted: EventEmitter would throw it, and the store must not take its host down.
   */
  relay(report: StoreReport): void {
    this.#metrics.reported(report)
    const logger = this.#logger
    for (const tell of [
      () => this.#listeners.listenerCount(report.level) > 0 && this.#listeners.emit(report.level, report),
      () => (report.level === 'error' ? logger?.error(report, report.message) : logger?.warn(report, report.message)),
      () => publish(report),
    ]) {
      try {
        tell()
      } catch {
        // A listener, logger or channel subscriber that throws must not turn a survived
        // fault into a crash, nor break the part of the store that reported it.
      }
    }
  }

  /**
   * Warns when the loaded driver lacks the guard, once listeners had a chance to attach (the
   * store is returned first); on stderr when nobody listens, since a process that can crash
   * should not learn it by crashing.
   */
  warnIfDriverUnguarded(): void {
    if (driverIsGuarded()) return
    setImmediate(() => warnUnguardedDriver(this.#listeners.listenerCount('warning') > 0 || this.#logger !== null, this.report))
  }

  /** Stops relaying the worker threads' reports. */
  close(): void {
    this.#fromWorkers.close()
  }
}
