// Piscina entry of a reader actor: a task that lives as long as the store's port to it, and
// serves the reads that arrive on it, many at once, with the thread's own postgres.js pool.
import type { MessagePort } from 'node:worker_threads'
import { toWire } from '../lib/errors.js'
import type { ReadReply, ReadRequest } from '../lib/readers/messages.js'
import { toEventStoreError } from '../lib/storage/pg_errors.js'
import { runRead } from '../lib/storage/read.js'
import { column, schema, sql } from './context.js'

export function readerActor({ port }: { port: MessagePort }): Promise<void> {
  // Reads in flight, so that a cancel can stop the statement and free its connection.
  const running = new Map<number, AbortController>()
  port.on('message', (request: ReadRequest) => {
    if ('cancel' in request) return running.get(request.id)?.abort()
    const { id, task } = request
    const controller = new AbortController()
    running.set(id, controller)
    runRead(sql, task, column, controller.signal)
      .then(
        (result) => port.postMessage({ id, result } satisfies ReadReply),
        (error: unknown) => port.postMessage({ id, result: { status: 'error', error: toWire(toEventStoreError(error, schema)) } } satisfies ReadReply),
      )
      .finally(() => running.delete(id))
  })
  // The store closed its end: it has stopped.
  return new Promise((resolve) => port.once('close', () => resolve()))
}

// Also the module's default export: piscina loads the pool's default handler as each thread starts.
export default readerActor
