// store.status() and store.metrics(): what the writer, the worker pool and the subscriptions
// are doing, and the counters since start.
import type { MetricsSnapshot, RecentReport } from '../observability/metrics.js'
import { type SubscriptionStatus, subscriptionStatus } from '../observability/status.js'
import { storeName } from '../storage/holder.js'
import { openConnections } from '../storage/connection_counts.js'
import type { Query } from '../storage/query.js'
import type { StoreParts } from './parts.js'
import type { CallOptions } from '../types.js'

/** How long status() waits for a subscription actor to describe itself. */
const STATUS_ANSWER_MS = 1000

/** A kind of connection: how many the budget allows it and how many are open now. */
export interface ConnectionUse {
  max: number
  open: number
}

/**
 * The store's connections (maxConnections shared out) and how many are open. Through `url`:
 * store, writer, workers, projections; through `sessionUrl`: lockSession and listener,
 * together `sessions`, the connections a transaction-mode pooler cannot carry.
 */
export interface ConnectionsStatus extends ConnectionUse {
  /** The main thread's pool: reads' bookkeeping, subscriptions, status. */
  store: ConnectionUse
  writer: ConnectionUse
  /** The worker threads' pools: reads, subscription actors' reads and checkpoints. */
  workers: ConnectionUse
  /** Projections' batch connections and module projections' thread pools; max: what the budget leaves them. */
  projections: ConnectionUse
  /** The session holding every advisory lock of the store. */
  lockSession: ConnectionUse
  /** The store's LISTEN session, and one per actor-module projection. */
  listener: ConnectionUse
  /** lockSession and listener together: what reaches the server's max_connections even behind a pooler. */
  sessions: ConnectionUse
}

export interface StoreStatus {
  /** This store, as `holder.store` names it in any process's status. */
  store: string
  connections: ConnectionsStatus
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
    connections: connectionsStatus(parts),
    writer: { queued: writer.queued, batches: writer.stats.batches, lastCommitAt: metrics.lastCommitAt },
    workers: { threads: pool.threads.length, utilization: pool.utilization, queuedTasks: pool.queueSize },
    subscriptions: await query(call, 'reading the status', () => subscriptionStatus(sql, config.schema, storeTag, local)),
    recentReports: [...metrics.recentReports],
  }
}

export function connectionsStatus({ config, counts, projections }: StoreParts): ConnectionsStatus {
  const open = openConnections(counts)
  const { budget } = config
  const modules = projections.connections.sessions
  const use = (max: number, now: number): ConnectionUse => ({ max, open: now })
  const total = Object.values(open).reduce((sum, n) => sum + n, 0)
  return {
    max: budget.max,
    open: total,
    store: use(budget.store, open.store),
    writer: use(budget.writer, open.writer),
    workers: use(budget.workers, open.workers),
    projections: use(budget.projections - modules, open.projections),
    lockSession: use(budget.lockSession, open.lockSession),
    listener: use(budget.listener + modules, open.listener),
    sessions: use(budget.lockSession + budget.listener + modules, open.lockSession + open.listener),
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
