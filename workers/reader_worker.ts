// Piscina entry of a reader actor: a task that lives as long as the store's port to it, and
// serves the reads that arrive on it, many at once, with the thread's own postgres.js pool.
import { serve } from '../lib/actors/calls.js'
import type { ReaderCalls, ReaderTask } from '../lib/readers/messages.js'
import { toEventStoreError } from '../lib/storage/pg_errors.js'
import { runRead } from '../lib/storage/read.js'
import { column, schema, sql } from './context.js'

export function readerActor({ port }: ReaderTask): Promise<void> {
  serve<ReaderCalls>(port, {
    read: (task, signal) =>
      runRead(sql, task, column, signal).catch((error: unknown) => {
        throw toEventStoreError(error, schema)
      }),
  })
  // The store closed its end: it has stopped.
  return new Promise((resolve) => port.once('close', () => resolve()))
}

// Also the module's default export: piscina loads the pool's default handler as each thread starts.
export default readerActor
