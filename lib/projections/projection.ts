// Transactional projections (store.project): a persistent subscription to $all whose handler
// gets a batch of events and the postgres.js transaction that also moves the checkpoint, so
// the read model and the checkpoint commit together. Each batch locks the checkpoint row and
// reads its events after the checkpoint it finds there, inside the same transaction
// (lib/storage/projections.ts): whichever process runs it, and however many think they hold
// it, no event's effect is applied twice and none is skipped. An advisory lock on a session
// of its own keeps one process at work and the others on standby, as for subscriptions.
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type postgres from 'postgres'
import { InvalidArgumentError } from '../errors.js'
import { describe } from '../expected_version.js'
import { checkFilter, type EventFilter, type ResolvedFilter } from '../filter.js'
import { Listener } from '../notifications/listener.js'
import type { Report } from '../reports.js'
import { type Codec, decodeEvents } from '../serializer.js'
import type { Locks } from '../locks/lock_session.js'
import { type ConnectionTarget, openProjectionBatchConnection } from '../storage/connections.js'
import { closeDatabase, type Sql } from '../storage/database.js'
import { isConnectionLoss, isNeverSent, toEventStoreError } from '../storage/pg_errors.js'
import { type ClearReadModel, projectBatch, resetProjectionRow } from '../storage/projections.js'
import { createSubscription, streamHead } from '../storage/subscriptions.js'
import { cancellable } from '../actors/cancellable.js'
import { pause, untilAborted } from '../actors/timeout.js'
import { HAND_OVER_COOLDOWN_MS, STANDBY_RETRY_MS } from '../locks/timing.js'
import { checkCallOptions } from '../validation.js'
import type { CallOptions, RecordedEvent } from '../types.js'
import { checkCount, checkPlainObject } from '../validation.js'

export type ProjectionHandler = (events: RecordedEvent[], tx: postgres.TransactionSql) => unknown

export interface ProjectOptions {
  /** Events per transaction; default 100. */
  batchSize?: number
  /** Once caught up, how long to wait for more events to fill a batch, in ms; default 0 (go at once). */
  maxWait?: number
  /** Where a new projection starts: 'origin' (default), 'current', or after global position N. */
  startFrom?: 'origin' | 'current' | number
  /** Only these events (server-side, see filters); the checkpoint still moves past the others. */
  filter?: EventFilter
  /** A failing batch is tried `attempts` times in all (default 5), waiting from `delay` ms (default 100), doubling, then the projection stops with the error. */
  retry?: { attempts?: number; delay?: number }
  /** Stops the projection when it aborts. */
  signal?: AbortSignal
}

/** Options as the projection runs them: plain data but the signal, which stays on the caller's thread. */
export interface ResolvedProjectOptions {
  batchSize: number
  maxWait: number
  startFrom: number
  filter: ResolvedFilter | null
  attempts: number
  delay: number
  signal: AbortSignal | undefined
}

export interface ProjectionEnd {
  reason: 'stopped' | 'error'
  error: Error | null
}

/** Names of projections in the subscriptions table, beside the subscriptions of $all. */
export const PROJECTION_PREFIX = '$projection-'
/** Caught up and not notified, it looks again this often anyway. */
const IDLE_POLL_MS = 1000
/** After a lost connection, the next try comes this much later. */
const RECONNECT_MS = 250

const lostServer = (error: unknown): boolean => isConnectionLoss(error) || isNeverSent(error)

export function resolveProjectOptions(options: unknown): ResolvedProjectOptions {
  const o = (options === undefined ? {} : checkPlainObject(options, 'options')) as ProjectOptions
  const retry = (o.retry === undefined ? {} : checkPlainObject(o.retry, 'options.retry')) as NonNullable<ProjectOptions['retry']>
  let startFrom: number
  if (o.startFrom === undefined || o.startFrom === 'origin') startFrom = 0
  else if (o.startFrom === 'current') startFrom = -1
  else if (typeof o.startFrom === 'number' && Number.isSafeInteger(o.startFrom) && o.startFrom >= 0) startFrom = o.startFrom
  else throw new InvalidArgumentError(`options.startFrom must be 'origin', 'current' or a non-negative integer; got ${describe(o.startFrom)}`)
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new InvalidArgumentError(`options.signal must be an AbortSignal; got ${describe(o.signal)}`)
  const maxWait = o.maxWait ?? 0
  if (!Number.isSafeInteger(maxWait) || maxWait < 0) throw new InvalidArgumentError(`options.maxWait must be a non-negative integer (ms); got ${describe(o.maxWait)}`)
  return {
    batchSize: checkCount(o.batchSize ?? 100, 'options.batchSize'),
    maxWait,
    startFrom,
    filter: checkFilter(o.filter, 'options.filter'),
    attempts: checkCount(retry.attempts ?? 5, 'options.retry.attempts'),
    delay: checkCount(retry.delay ?? 100, 'options.retry.delay'),
    signal: o.signal,
  }
}

export interface ProjectionContext extends ConnectionTarget {
  sql: Sql
  /** Where it holds its advisory lock: the store's lock session. */
  locks: Locks
  /** Where its LISTEN runs: the store's listen session, shared by its projections. */
  listenOn: Sql
  codec: Codec
  report: Report
}

/** What store.project resolves to, whether the handler runs here or as an actor module. */
export interface ProjectionHandle extends EventEmitter<{ error: [Error] }> {
  readonly name: string
  /** Settles when the projection stops: stop(), its signal, or a batch that failed for good. */
  readonly closed: Promise<ProjectionEnd>
  /**
   * Stops after the batch in flight (committed or rolled back); the checkpoint stays.
   * `signal` / `timeout` stop the waiting (the projection still stops).
   */
  stop(options?: CallOptions): Promise<void>
}

/** What the store holds of a projection it runs: `halt()` ends it without waiting, at a stop() cut short. */
export interface RunningProjection extends ProjectionHandle {
  halt(): void
}

/** A running projection: `closed` settles when it stops; 'error' is emitted when a batch failed for good. */
export class Projection extends EventEmitter<{ error: [Error] }> implements RunningProjection {
  readonly name: string
  readonly closed: Promise<ProjectionEnd>
  #end: (end: ProjectionEnd) => void = () => {}
  readonly #stopping = new AbortController()
  readonly #halted = new AbortController()
  readonly #context: ProjectionContext
  readonly #handler: ProjectionHandler
  readonly #options: ResolvedProjectOptions
  readonly #row: string
  /** Its advisory lock, named as a subscription's: "<schema>:$all:<row>". */
  readonly #lockName: string
  #wake: () => void = () => {}
  /** A notification came since the last batch began: do not wait before the next one. */
  #notified = false
  /** Whether this store holds the projection's advisory lock. */
  #holding = false
  /** The fleet asked for the lock: hand it over after the batch in flight. */
  #handOverAsked = false
  /** The connection its batches run on (openProjectionBatchConnection), replaced whenever the server was lost. */
  #batchSql: Sql | null = null

  constructor(name: string, handler: ProjectionHandler, options: ResolvedProjectOptions, context: ProjectionContext) {
    super()
    this.name = name
    this.#row = `${PROJECTION_PREFIX}${name}`
    this.#lockName = `${context.schema}:$all:${this.#row}`
    this.#handler = handler
    this.#options = options
    this.#context = context
    this.closed = new Promise((resolve) => {
      this.#end = resolve
    })
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true })
    void this.#run()
  }

  /** Stops after the batch in flight (committed or rolled back); the checkpoint stays. */
  async stop(options?: CallOptions): Promise<void> {
    const call = checkCallOptions(options)
    this.#stopping.abort()
    this.#wake()
    await cancellable(call, 'stopping the projection', () => this.closed)
  }

  /**
   * Stops without waiting for the batch in flight: its connection is closed, so the batch
   * cannot commit. Its begin() is not awaited (postgres.js leaves a transaction whose
   * pool was destroyed unsettled).
   */
  halt(): void {
    this.#halted.abort()
    this.#dropBatchConnection()
    void this.stop()
  }

  async #run(): Promise<void> {
    const { sql, listenOn, schema, report } = this.#context
    const listener = new Listener(
      sql,
      listenOn,
      schema,
      () => {
        this.#notified = true
        this.#wake()
      },
      report,
    )
    let end: ProjectionEnd = { reason: 'stopped', error: null }
    let ready = false
    try {
      while (!this.#stopping.signal.aborted) {
        try {
          if (!ready) {
            await this.#create()
            await listener.start()
            ready = true
          }
          if (this.#handOverAsked) await this.#handOver()
          if (!(await this.#holdLock())) {
            // Not woken by notifications: on standby they would only repeat the attempt.
            await pause(STANDBY_RETRY_MS, this.#stopping.signal)
            continue
          }
          this.#notified = false
          const projected = await this.#batchWithRetries()
          if (projected === 'caught_up') await this.#pause(IDLE_POLL_MS)
          else if (projected < this.#options.batchSize && this.#options.maxWait > 0) await this.#pause(this.#options.maxWait)
        } catch (error) {
          // A lost server is waited out, whatever it takes: the next batch finds the checkpoint
          // as the last one left it (committed or not), so nothing is applied twice.
          if (!lostServer(error)) throw error
          this.#dropBatchConnection()
          report('warning', 'projection', `projection "${this.name}": PostgreSQL could not be reached; trying again`, error, { name: this.name })
          await this.#pause(RECONNECT_MS)
        }
      }
    } catch (error) {
      if (!this.#halted.signal.aborted) {
        const failure = toEventStoreError(error, schema)
        end = { reason: 'error', error: failure }
        report('error', 'projection', `projection "${this.name}" stopped`, failure, { name: this.name })
        if (this.listenerCount('error') > 0) this.emit('error', failure)
      }
    } finally {
      // Halted, the store's connections are closing: nothing below is waited for.
      if (this.#halted.signal.aborted) this.#end(end)
      // Listener.stop reports its own failures.
      await listener.stop()
      this.#dropBatchConnection()
      await this.#context.locks.unlock(this.#lockName, true).catch((error: unknown) => report('warning', 'projection', `projection "${this.name}": releasing its lock failed`, error, { name: this.name }))
      this.#end(end)
    }
  }

  #batchConnection(): Sql {
    this.#batchSql ??= openProjectionBatchConnection(this.#context)
    return this.#batchSql
  }

  /** Closes the batch connection at once, without waiting on it; the next batch opens a new one. */
  #dropBatchConnection(): void {
    const sql = this.#batchSql
    this.#batchSql = null
    if (!sql) return
    void closeDatabase(sql, 0).catch((error: unknown) =>
      this.#context.report('warning', 'projection', `projection "${this.name}": closing its batch connection failed`, error, { name: this.name }),
    )
  }

  /** Waits `ms`, or less when woken by a notification or stop(). */
  async #pause(ms: number): Promise<void> {
    if (this.#notified || this.#stopping.signal.aborted) return
    await Promise.race([sleep(ms, undefined, { ref: false }), new Promise<void>((resolve) => (this.#wake = resolve))])
  }

  async #create(): Promise<void> {
    const start = this.#options.startFrom === -1 ? await streamHead(this.#batchConnection(), '$all') : this.#options.startFrom
    await createSubscription(this.#batchConnection(), '$all', this.#row, start)
  }

  /** Takes the advisory lock, within this store's share of the fleet's work; true while held. */
  async #holdLock(): Promise<boolean> {
    if (this.#holding) return true
    this.#holding = await this.#context.locks.tryLock(this.#lockName, {
      lost: () => {
        this.#holding = false
        this.#context.report('warning', 'projection', `projection "${this.name}": its lock session was lost; back to standby`, undefined, { name: this.name })
      },
      handOver: () => {
        this.#handOverAsked = true
        this.#wake()
      },
    })
    return this.#holding
  }

  /** Lets a store holding fewer take it: unlocks between batches, then waits for the taker to go first. */
  async #handOver(): Promise<void> {
    this.#handOverAsked = false
    if (!this.#holding) return
    this.#holding = false
    await this.#context.locks.unlock(this.#lockName)
    await pause(HAND_OVER_COOLDOWN_MS, this.#stopping.signal)
  }

  /** One batch, tried again on failure; the number of events projected, or 'caught_up'. */
  async #batchWithRetries(): Promise<number | 'caught_up'> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await untilAborted(this.#batch(), this.#halted.signal, () => new Error('the store was stopped without waiting for this batch'))
      } catch (error) {
        // Only the handler's own failures count against its attempts.
        if (lostServer(error) || attempt >= this.#options.attempts || this.#stopping.signal.aborted) throw error
        this.#context.report('warning', 'projection', `projection "${this.name}": a batch failed (attempt ${attempt} of ${this.#options.attempts}); trying again`, error, { name: this.name })
        await sleep(Math.min(this.#options.delay * 2 ** (attempt - 1), 30_000))
      }
    }
  }

  async #batch(): Promise<number | 'caught_up'> {
    const { codec } = this.#context
    const { batchSize, filter } = this.#options
    const projected = await projectBatch(this.#batchConnection(), this.#row, { batchSize, filter, column: codec.column }, (stored, tx) => this.#handler(decodeEvents(codec, stored), tx))
    if (projected === null) throw new InvalidArgumentError(`projection "${this.name}" was deleted`)
    return projected
  }
}

/**
 * Sends projection `name` back to the start, running `reset(tx)` (clearing its read model) in
 * the same transaction, after its checkpoint row is locked: a batch in flight commits first,
 * and the next batch, here or in any process, starts from the first event.
 * @returns false when there is no such projection
 */
export function resetProjection(sql: Sql, name: string, reset: ClearReadModel | undefined, signal?: AbortSignal): Promise<boolean> {
  return resetProjectionRow(sql, `${PROJECTION_PREFIX}${name}`, reset, signal)
}
