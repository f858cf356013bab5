// The main thread's side of the reader workers: sends read tasks to the pool and turns
// each page's JSON text back into RecordedEvents.
import type { Piscina } from 'piscina'
import { ConnectionError, type EventStoreError, fromWire, type WireError } from '../errors.js'
import { startPool } from '../actors/pool.js'
import { workerUrl } from '../package_files.js'
import type { ReadResult, ReadTask } from '../storage/read.js'
import type { RecordedEvent } from '../types.js'

export interface ReaderPoolOptions {
  url: string
  schema: string
  threads: number
  connectionsPerWorker: number
}

export class ReaderPool {
  readonly #pool: Piscina
  #closed = false

  constructor({ url, schema, threads, connectionsPerWorker }: ReaderPoolOptions) {
    this.#pool = startPool({
      filename: workerUrl('reader_worker'),
      threads,
      workerData: { url, schema, connectionsPerWorker },
      concurrentTasksPerWorker: connectionsPerWorker * 4,
    })
  }

  async run(task: ReadTask): Promise<ReadResult> {
    if (this.#closed) throw new ConnectionError('the event store has been stopped')
    let result: ReadResult | { status: 'error'; error: WireError }
    try {
      result = await this.#pool.run(task)
    } catch (error) {
      throw new ConnectionError(`a reader worker failed: ${(error as Error).message}`, undefined, { cause: error })
    }
    if (result.status === 'error') throw fromWire(result.error) as EventStoreError
    return result
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#pool.close()
  }
}

/** Parses a page read by a worker; dates arrive as ISO strings. */
export function parsePage(json: string): RecordedEvent[] {
  const events = JSON.parse(json) as (Omit<RecordedEvent, 'createdAt'> & { createdAt: string | Date })[]
  for (const event of events) event.createdAt = new Date(event.createdAt)
  return events as RecordedEvent[]
}
