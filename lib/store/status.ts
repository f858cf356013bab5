// store.status() and store.metrics(): what the writer, the worker pool and the subscriptions
// are doing, and the counters since start.
import type { MetricsSnapshot, RecentReport } from '../observability/metrics.js'
import { type SubscriptionStatus, subscriptionStatus } from '../observability/status.js'
import { storeName } from '../storage/holder.js'
import type { Query } from '../storage/query.js'
import type { StoreParts } from './parts.js'
import type { CallOptions } from '../types.js'

/** How long status() waits for a subscription actor to describe itself. */
const STATUS_ANSWER_MS = 1000

export interface StoreStatus {
  /** This store, as `holder.store` names it in any process's status. */
  store: string
  writer: { queued: number; batches: number; lastCommitAt: Date | null }
  /** The store's worker pool: reader and subscription actors. */
  workers: { threads: number; utilization: number; queuedTasks: number }
  subscriptions: SubscriptionStatus[]
  /** The store's latest warnings and errors (at most 20, oldest first), as its listeners heard them. */
  recentReports: RecentReport[]
}

export async function storeStatus(parts: StoreParts, query: Query, call: CallOptions): Promise<StoreStatus> {
  const { sql, config, storeTag, writer, pool, metrics, subscriptions } = parts
  const local = await subscriptions.localStatus(STATUS_ANSWER_MS)
  return {
    store: storeName(storeTag),
    writer: { queued: writer.queued, batches: writer.stats.batches, lastCommitAt: metrics.lastCommitAt },
    workers: { threads: pool.threads.length, utilization: pool.utilization, queuedTasks: pool.queueSize },
    subscriptions: await query(call, 'reading the status', () => subscriptionStatus(sql, config.schema, storeTag, local)),
    recentReports: [...metrics.recentReports],
  }
}

export function storeMetrics({ metrics, writer, pool }: StoreParts): MetricsSnapshot {
  return {
    at: Date.now(),
    counters: { ...metrics.counters },
    writer: { queued: writer.queued, batches: writer.stats.batches, lastCommitAt: metrics.lastCommitAt },
    batchSize: metrics.batchSize.snapshot(),
    commitLatency: metrics.commitLatency.snapshot(),
    readLatency: metrics.readLatency.snapshot(),
    workerUtilization: pool.utilization,
  }
}
