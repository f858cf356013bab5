// Piscina entry of a reader worker: each thread has its own small postgres.js pool and
// serves read tasks from the main thread. Errors travel back as values (lib/errors.ts
// toWire) because a thrown error crossing threads keeps only its message.
import { workerData } from 'node:worker_threads'
import { toWire, type WireError } from '../lib/errors.js'
import { openDatabase } from '../lib/storage/database.js'
import { toEventStoreError } from '../lib/storage/pg_errors.js'
import { type ReadResult, type ReadTask, runRead } from '../lib/storage/read.js'

export interface ReaderWorkerData {
  url: string
  schema: string
  connectionsPerWorker: number
}

const { url, schema, connectionsPerWorker } = workerData as ReaderWorkerData
const sql = openDatabase({ url, schema, max: connectionsPerWorker, role: 'pg-eventstore reader' })

export default async function read(task: ReadTask): Promise<ReadResult | { status: 'error'; error: WireError }> {
  try {
    return await runRead(sql, task)
  } catch (error) {
    return { status: 'error', error: toWire(toEventStoreError(error, schema)) }
  }
}
