// The main thread's side of the reader actors: as many as worker threads, each a piscina task
// (placed on the least busy thread) that lives as long as the store and serves the reads
// called on its port (workers/reader_worker.ts).
// A port instead of a piscina task for each read spares piscina's bookkeeping on both threads
// (benchmarks/README.md). Errors come back with their codes.
import { MessageChannel } from 'node:worker_threads'
import type { Piscina } from 'piscina'
import { Caller } from '../actors/calls.js'
import { ConnectionError } from '../errors.js'
import type { CallOptions } from '../types.js'
import type { ReadResult, ReadTask } from '../storage/read.js'
import { READER_ACTOR, type ReaderCalls, type ReaderTask } from './messages.js'

const STOPPED = 'the event store has been stopped'
/** How long stop() waits for reads in flight, as long as the store's pool waits for its queries. */
const CLOSE_WAIT_MS = 5000
/**
 * An actor is replaced at once, unless the one before it also ended within SHORT_LIFE_MS of
 * starting (threads that cannot start): then after a pause that doubles up to MAX_RESPAWN_DELAY_MS.
 */
const SHORT_LIFE_MS = 1000
const FIRST_RESPAWN_DELAY_MS = 100
const MAX_RESPAWN_DELAY_MS = 5000

/** The pause before replacing an actor after `youngDeaths` in a row ended young; 0: at once. */
export function respawnDelay(youngDeaths: number): number {
  return youngDeaths <= 1 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, FIRST_RESPAWN_DELAY_MS * 2 ** (youngDeaths - 2))
}

interface ReaderActor {
  reads: Caller<ReaderCalls>
  started: number
}

export class ReaderPool {
  readonly #pool: Piscina
  /** The actors alive; one that ends leaves at once, so no read is posted to a dead one. */
  readonly #actors: ReaderActor[] = []
  #closed = false
  /** Actors in a row that ended soon after they started. */
  #youngDeaths = 0

  constructor(pool: Piscina, threads: number) {
    this.#pool = pool
    for (let i = 0; i < threads; i += 1) this.#actors.push(this.#spawn())
  }

  /**
   * Runs a read on the actor with the fewest reads in flight. Aborted by `signal` or past
   * `timeout` ms, it rejects at once, and the actor cancels its statement in PostgreSQL.
   */
  run(task: ReadTask, call: CallOptions = {}): Promise<ReadResult> {
    if (this.#closed) return Promise.reject(new ConnectionError(STOPPED))
    // An actor whose thread died is skipped until its task's end replaces it.
    let actor: ReaderActor | undefined
    for (const other of this.#actors) if (!other.reads.closed && (!actor || other.reads.pending < actor.reads.pending)) actor = other
    if (!actor) return Promise.reject(new ConnectionError('no reader worker is running; a new one is starting'))
    return actor.reads.call('read', [task], call)
  }

  /** Refuses further reads, lets those in flight finish (for up to CLOSE_WAIT_MS), and ends the actors. */
  async close(cut?: AbortSignal): Promise<void> {
    this.#closed = true
    const deadline = Date.now() + CLOSE_WAIT_MS
    while (this.#actors.some((actor) => actor.reads.pending > 0) && Date.now() < deadline && !cut?.aborted) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const actor of [...this.#actors]) this.#ended(actor, null)
  }

  #spawn(): ReaderActor {
    const { port1, port2 } = new MessageChannel()
    const actor: ReaderActor = { reads: new Caller(port1, 'the read'), started: Date.now() }
    const task = this.#pool.run({ port: port2 } satisfies ReaderTask, { name: READER_ACTOR, transferList: [port2] as never }) as Promise<void>
    task.then(
      () => this.#ended(actor, null),
      (error: unknown) => this.#ended(actor, error),
    )
    return actor
  }

  /** An actor's task ended: at stop, or because its thread died; then a new one takes its place. */
  #ended(actor: ReaderActor, error: unknown): void {
    const index = this.#actors.indexOf(actor)
    if (index === -1) return
    this.#actors.splice(index, 1)
    const reason = this.#closed && !error ? STOPPED : `a reader worker failed: ${(error as Error)?.message ?? error ?? 'it ended'}`
    actor.reads.close(new ConnectionError(reason, undefined, { cause: error ?? undefined }))
    if (this.#closed) return
    this.#youngDeaths = Date.now() - actor.started < SHORT_LIFE_MS ? this.#youngDeaths + 1 : 0
    const respawn = () => {
      if (!this.#closed) this.#actors.push(this.#spawn())
    }
    const delay = respawnDelay(this.#youngDeaths)
    if (delay === 0) respawn()
    else setTimeout(respawn, delay).unref()
  }
}
