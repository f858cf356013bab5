// Piscina entry of the reader actors: serves read tasks from the main thread with the
// thread's own postgres.js pool. Errors travel back as values (lib/errors.ts toWire)
// because a thrown error crossing threads keeps only its message.
import { toWire, type WireError } from '../lib/errors.js'
import { toEventStoreError } from '../lib/storage/pg_errors.js'
import { type ReadResult, type ReadTask, runRead } from '../lib/storage/read.js'
import { column, schema, sql } from './context.js'

export default async function read(task: ReadTask): Promise<ReadResult | { status: 'error'; error: WireError }> {
  try {
    return await runRead(sql, task, column)
  } catch (error) {
    return { status: 'error', error: toWire(toEventStoreError(error, schema)) }
  }
}
