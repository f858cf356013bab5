// The main thread's side of the reader actors: sends read tasks to the worker pool and
// brings back errors with their codes.
import type { Piscina } from 'piscina'
import { ConnectionError, type EventStoreError, fromWire, type WireError } from '../errors.js'
import type { ReadResult, ReadTask } from '../storage/read.js'

export class ReaderPool {
  readonly #pool: Piscina
  #closed = false

  constructor(pool: Piscina) {
    this.#pool = pool
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

  /** Refuses further reads; the pool itself is closed by the store. */
  close(): void {
    this.#closed = true
  }
}
