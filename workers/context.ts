// What a worker thread shares among the actors it hosts: one postgres.js pool for reads and
// checkpoints, its reports and its codec. Each actor reaches the store's lock session over a
// port of its own task (lib/locks/remote.ts).
import { workerData } from 'node:worker_threads'
import type { WorkerContextData } from '../lib/actors/pool.js'
import { openWorkerPool } from '../lib/storage/connections.js'
import type { Sql } from '../lib/storage/database.js'
import { type Codec, loadSerializer } from '../lib/serializer.js'
import { workerReporter } from '../lib/reports.js'
import { loadUpcasters } from '../lib/upcasting.js'

const data = workerData as WorkerContextData

export const schema = data.schema
export const column = data.column
export const sql: Sql = openWorkerPool(data, data.connectionsPerWorker)
/** Tells the store's main thread what this thread retried or survived. */
export const report = workerReporter(data.storeId)

// Loaded on first use: worker modules may be loaded as CommonJS (piscina tries require()
// first), where a top-level await is not allowed.
let codec: Promise<Codec> | null = null

/** The store's codec, for actor-module subscribers that decode events in this thread. */
export function threadCodec(): Promise<Codec> {
  codec ??= Promise.all([loadSerializer(data.serializer ?? undefined), loadUpcasters(data.upcasters ?? undefined)]).then(([serializer, upcasters]) => ({
    column: data.column,
    serializer,
    upcasters,
  }))
  return codec
}
