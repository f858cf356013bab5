// The worker pool hosting the reader and subscription actors. Actors are long-lived,
// so threads never idle out and never park in Atomics.wait (piscina's atomics: 'disabled').
import { Piscina } from 'piscina'
import type { ColumnDataType } from '../serializer.js'
import type { ConnectionSettings } from '../config.js'

/** What every worker thread is started with (see workers/context.ts). */
export interface WorkerContextData {
  /** Statements and transactions; may be a transaction-mode pooler. */
  url: string
  /** LISTEN and the lock sessions (lib/storage/connections.ts). */
  sessionUrl: string
  prepare: boolean
  /** The store's open connections by kind (lib/storage/connection_counts.ts), shared. */
  counts: Int32Array
  schema: string
  connectionsPerWorker: number
  column: ColumnDataType
  /** URL of the serializer module, or null for JSON. */
  serializer: string | null
  /** URL of the upcasters module, or null (none, or given as an array: it stays on the main thread). */
  upcasters: string | null
  connection: ConnectionSettings
  /** Names the channel on which the thread reports to its store (lib/reports.ts). */
  storeId: string
  /** Tells this store's lock sessions apart from other stores' in pg_locks (lib/storage/fleet.ts). */
  storeTag: number
}

export interface PoolOptions {
  filename: URL
  threads: number
  workerData: WorkerContextData
  /** Tasks one thread runs at once; reads are I/O bound, so many may overlap. */
  concurrentTasksPerWorker: number
}

/** Piscina's own balancer places each task on the least busy thread, so the reader actors spread over the threads. */
export function startPool({ filename, threads, workerData, concurrentTasksPerWorker }: PoolOptions): Piscina {
  return new Piscina({
    filename: filename.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    atomics: 'disabled',
    // Nothing reads piscina's run and wait time histograms; recording them costs every task.
    recordTiming: false,
    concurrentTasksPerWorker,
    workerData,
  })
}

/** A pool of one thread for one piece of user code (an actor-module subscriber or projection): its crash ends only that thread. */
export function oneThreadPool(filename: URL, workerData: WorkerContextData): Piscina {
  return new Piscina({
    filename: filename.href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    atomics: 'disabled',
    recordTiming: false,
    workerData,
  })
}
