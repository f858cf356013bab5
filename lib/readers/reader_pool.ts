// The main thread's side of the reader actors: one on each worker thread, a piscina task that
// lives as long as the store and serves the reads posted on its port (workers/reader_worker.ts).
// A port instead of a piscina task for each read: piscina's own bookkeeping on both threads
// cost ~40 µs a read (benchmarks/README.md). Errors come back with their codes.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { Piscina } from 'piscina'
import { ConnectionError, type EventStoreError, fromWire } from '../errors.js'
import type { ReadResult, ReadTask } from '../storage/read.js'
import { READER_ACTOR, type ReadReply, type ReadRequest } from './messages.js'

/** How long stop() waits for reads in flight, as long as the store's pool waits for its queries. */
const CLOSE_WAIT_MS = 5000

interface Pending {
  resolve: (result: ReadResult) => void
  reject: (error: Error) => void
}

interface ReaderActor {
  port: MessagePort
  pending: Map<number, Pending>
  ended: boolean
}

export class ReaderPool {
  readonly #pool: Piscina
  readonly #actors: ReaderActor[] = []
  #nextId = 0
  #closed = false

  constructor(pool: Piscina, threads: number) {
    this.#pool = pool
    for (let i = 0; i < threads; i += 1) this.#actors.push(this.#spawn())
  }

  /** Runs a read on the actor with the fewest reads in flight. */
  run(task: ReadTask): Promise<ReadResult> {
    if (this.#closed) return Promise.reject(new ConnectionError('the event store has been stopped'))
    let actor = this.#actors[0] as ReaderActor
    for (const other of this.#actors) if (other.pending.size < actor.pending.size) actor = other
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      actor.pending.set(id, { resolve, reject })
      actor.port.postMessage({ id, task } satisfies ReadRequest)
    })
  }

  /** Refuses further reads, lets those in flight finish (for up to CLOSE_WAIT_MS), and ends the actors. */
  async close(): Promise<void> {
    this.#closed = true
    const deadline = Date.now() + CLOSE_WAIT_MS
    while (this.#actors.some((actor) => actor.pending.size > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const actor of this.#actors) this.#ended(actor, null)
  }

  #spawn(): ReaderActor {
    const { port1, port2 } = new MessageChannel()
    const actor: ReaderActor = { port: port1, pending: new Map(), ended: false }
    port1.on('message', ({ id, result }: ReadReply) => {
      const pending = actor.pending.get(id)
      if (!pending) return
      actor.pending.delete(id)
      if (result.status === 'error') pending.reject(fromWire(result.error) as EventStoreError)
      else pending.resolve(result)
    })
    const task = this.#pool.run({ port: port2 }, { name: READER_ACTOR, transferList: [port2] as never }) as Promise<void>
    task.then(
      () => this.#ended(actor, null),
      (error: unknown) => this.#ended(actor, error),
    )
    return actor
  }

  /** An actor's task ended: at stop, or because its thread died; then a new one takes its place. */
  #ended(actor: ReaderActor, error: unknown): void {
    if (actor.ended) return
    actor.ended = true
    actor.port.close()
    const reason = error ? `a reader worker failed: ${(error as Error)?.message ?? error}` : 'the event store has been stopped'
    for (const pending of actor.pending.values()) pending.reject(new ConnectionError(reason, undefined, { cause: error ?? undefined }))
    actor.pending.clear()
    const index = this.#actors.indexOf(actor)
    if (!this.#closed && index !== -1) this.#actors[index] = this.#spawn()
  }
}
