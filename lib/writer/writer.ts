// The writer actor: every append, link and deletion of the process goes through it, in
// mailbox order. Requests that arrive while batches are in flight are taken together by the
// next turn (group commit), so many appends share one commit and its disk flush; each caller
// still gets its own result, and a batch that fails as a whole is retried request by request
// so that one bad request cannot fail the others.
import { AbortedError, ConnectionError, OverloadedError } from '../errors.js'
import { eventsChannel, newOrigin } from '../notifications/notification.js'
import type { NotifyTarget } from '../storage/notifications.js'
import type { StoreMetrics } from '../observability/metrics.js'
import type { Report } from '../reports.js'
import { isWritten } from '../storage/append.js'
import type { Sql } from '../storage/database.js'
import { isConnectionLoss, isNeverSent, isRolledBack, toEventStoreError } from '../storage/pg_errors.js'
import type { CommittedEvents } from '../storage/write_plan.js'
import type { WriteOptions } from '../types.js'
import { hasPending, InFlight, nextTurn, PIPELINE_MIN_ROWS, preparesHalf, toPrepare } from './batching.js'
import { WriterConnection } from './connection.js'
import { type BatchResult, executeBatch, type WriteCounts } from './execute_batch.js'
import type { PendingAppend, WriterMessage } from './messages.js'
import { OtherWriters } from './other_writers.js'
import { type Attempt, type Settlement, type SettlingContext, settleLost } from './outcomes.js'
import { type Envelope, settleAll, WriteQueue } from './queue.js'

export interface WriterOptions {
  /** Most rows (events + links) one batch writes, unless a single request is larger. */
  maxBatchRows?: number
  /** Fewest rows a batch has for it to be pipelined. Default PIPELINE_MIN_ROWS (batching.ts). */
  pipelineMinRows?: number
  /** Requests held at most; beyond it `post` refuses with OverloadedError. Default 10,000. */
  maxQueued?: number
  /**
   * Opens a client of the writer's own (max 1) whose connection carries every batch, the
   * pipelined ones back to back; the writer ends it (and opens another) when its connection
   * fails or a batch (or dropping its cached plans) outlives outcomeTimeout. Without it,
   * batches go one at a time on `sql`.
   */
  openConnection?: () => Sql
  /**
   * That connection prepares its statements and goes straight to the server (not through a
   * pooler), so PostgreSQL caches their plans there: the writer drops them as the store grows
   * (replanning.ts). Default true.
   */
  cachesPlans?: boolean
  /** How long a batch may take, and how long the writer tries to settle a lost one, in ms. Default 15,000. */
  outcomeTimeout?: number
  /** Where the writer tells what it retried or could not settle (lib/reports.ts). */
  report?: Report
  /** Signs the notifications of batches handed to onCommitted (lib/notifications/notification.ts). */
  origin?: string
  /** Hears every batch's events once committed, before the appends resolve. Must not throw. */
  onCommitted?: (committed: CommittedEvents) => void
  /** A batch failed in a way that leaves it unknown whether it committed (a lost connection). */
  onOutcomeUnknown?: () => void
  /** Counts committed batches, their size and latency (lib/observability/metrics.ts). */
  metrics?: StoreMetrics
}

export class Writer {
  readonly #schema: string
  readonly #notify: NotifyTarget
  readonly #maxBatchRows: number
  readonly #pipelineMinRows: number
  readonly #maxQueued: number
  readonly #report: Report
  readonly #onCommitted: (committed: CommittedEvents) => void
  readonly #metrics: StoreMetrics | null
  readonly #queue = new WriteQueue()
  readonly #inFlight = new InFlight()
  readonly #otherWriters = new OtherWriters()
  readonly #connection: WriterConnection
  readonly #settling: SettlingContext
  #pumpScheduled = false
  #preparationScheduled = false
  readonly #whenIdle: (() => void)[] = []
  #stopped = false
  /** stop() was cut short: batches whose outcome is in doubt are not looked into any more. */
  #abandoned = false
  #batches = 0
  #requests = 0
  readonly #writes: WriteCounts = { expected: 0, locking: 0 }

  constructor(sql: Sql, schema: string, options: WriterOptions = {}) {
    this.#schema = schema
    this.#maxBatchRows = options.maxBatchRows ?? 10_000
    this.#pipelineMinRows = options.pipelineMinRows ?? PIPELINE_MIN_ROWS
    this.#maxQueued = options.maxQueued ?? 10_000
    const outcomeTimeout = options.outcomeTimeout ?? 15_000
    this.#report = options.report ?? (() => {})
    this.#notify = { channel: eventsChannel(schema), origin: options.origin ?? newOrigin() }
    this.#onCommitted = options.onCommitted ?? (() => {})
    this.#metrics = options.metrics ?? null
    this.#connection = new WriterConnection(sql, options.openConnection ?? null, outcomeTimeout, this.#report, options.cachesPlans ?? true)
    this.#settling = {
      isWritten: (witness) => isWritten(sql, witness),
      outcomeTimeout,
      abandoned: () => this.#abandoned,
      report: this.#report,
      onOutcomeUnknown: options.onOutcomeUnknown ?? (() => {}),
      sendAgain: (batch) => this.#queue.putBack(batch),
    }
  }

  /** Queues a request; settles when it is committed or refused. */
  post(request: WriterMessage | PendingAppend, options: WriteOptions = {}): Promise<void> {
    if (this.#stopped) return Promise.reject(new ConnectionError('the event store has been stopped'))
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(new AbortedError('the append was aborted before it was queued', { reason: String(signal.reason) }))
    const live = this.#queue.live
    if (live >= this.#maxQueued) {
      return Promise.reject(new OverloadedError(`the writer already holds ${live} requests (maxQueuedWrites); nothing was written, retry later`, { queued: live }))
    }
    const settled = this.#queue.enqueue(request, signal, timeout)
    this.#schedulePump()
    return settled
  }

  /** Requests waiting for the next turn. */
  get queued(): number {
    return this.#queue.live
  }

  /**
   * Since start: batches run and the requests they carried (requests / batches is the
   * group-commit factor); of the batches of appends and links, how many the one-statement
   * expected write wrote and how many the locking write (lib/storage/append.ts).
   */
  get stats(): { batches: number; requests: number } & WriteCounts {
    return { batches: this.#batches, requests: this.#requests, ...this.#writes }
  }

  /** Refuses new requests and resolves once everything queued is written. */
  async stop(): Promise<void> {
    this.#stopped = true
    while (this.#inFlight.count > 0 || this.#queue.live > 0) await new Promise<void>((resolve) => this.#whenIdle.push(resolve))
    await this.#connection.close()
  }

  /**
   * Gives up on what stop() still waits for: queued requests are refused (nothing of them
   * was sent), the connection carrying batches in flight is closed, and a batch whose outcome
   * that leaves in doubt fails with details.outcome 'unknown' instead of being looked into.
   */
  abandon(): void {
    this.#stopped = true
    this.#abandoned = true
    this.#queue.skipSettled()
    const refused = stoppedBeforeSent()
    while (this.#queue.live > 0) for (const envelope of this.#queue.take(this.#queue.live)) envelope.reject(refused)
    void this.#connection.close(true)
    this.#pump()
  }

  /** Pumps on a later microtask, so requests posted in the same tick join one batch. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /** Starts every batch that may go now (batching.ts decides); runs again whenever one is posted or finishes. */
  #pump(): void {
    const queue = this.#queue
    const inFlight = this.#inFlight
    while (queue.live > 0 && inFlight.open) {
      queue.skipSettled()
      const mayPipeline = this.#connection.own && !this.#otherWriters.seen
      const half = preparesHalf(queue.envelopes, inFlight.count === 0, mayPipeline, this.#pipelineMinRows)
      queue.prepare(toPrepare(queue.live, half))
      queue.skipSettled()
      if (queue.live === 0) break
      const turn = nextTurn(queue.envelopes, inFlight, this.#maxBatchRows, mayPipeline, half, this.#pipelineMinRows)
      if (!turn) return // waits for the batches in flight; their end pumps again
      if (turn.length === 0) continue // every append prepared was refused: prepare the next ones
      const batch = queue.take(turn.length)
      const streams = batch.map((envelope) => (envelope.request as WriterMessage).streamId)
      inFlight.start(streams, turn.pipelined)
      void this.#write(batch).finally(() => {
        inFlight.end(streams)
        this.#pump()
      })
      if (hasPending(queue.envelopes)) {
        this.#schedulePreparation()
        break
      }
    }
    // Requests that must wait for a free turn are prepared now, while PostgreSQL is busy.
    if (inFlight.count > 0 && !this.#preparationScheduled) queue.prepare(Infinity)
    if (inFlight.count === 0 && queue.live === 0) for (const resolve of this.#whenIdle.splice(0)) resolve()
  }

  /**
   * Prepares the pending appends left in the queue, then pumps. Runs after the current
   * microtasks, by which time the statement just started has been sent (postgres.js sends
   * on a later microtask).
   */
  #schedulePreparation(): void {
    if (this.#preparationScheduled) return
    this.#preparationScheduled = true
    setImmediate(() => {
      this.#preparationScheduled = false
      this.#queue.prepare(Infinity)
      this.#pump()
    })
  }

  /** Writes one batch and settles its callers; a pipelined one goes out without waiting for the one before. */
  async #write(batch: Envelope[]): Promise<void> {
    if (this.#abandoned) {
      const refused = stoppedBeforeSent()
      for (const envelope of batch) envelope.reject(refused)
      return
    }
    this.#batches += 1
    this.#requests += batch.length
    const attempt: Attempt = { witness: null, outcomes: [] }
    const sent = performance.now()
    let result: BatchResult
    try {
      result = await this.#connection.bounded(executeBatch(this.#connection.client(), this.#notify, batch, attempt, this.#writes))
    } catch (error) {
      this.#otherWriters.forget()
      if (isNeverSent(error)) {
        // PostgreSQL could not be reached: nothing was sent, every caller may retry.
        const failure = toEventStoreError(error, this.#schema)
        for (const envelope of batch) envelope.reject(failure)
        return
      }
      const settled = isRolledBack(error) ? 'rolled back' : await this.#settleLost(batch, attempt, error)
      if (settled === 'rolled back') {
        // Nothing is stored: a batch of several goes again request by request, so that one
        // bad request cannot fail the others.
        if (batch.length > 1) for (const envelope of batch) await this.#write([envelope])
        else batch[0]?.reject(toEventStoreError(error, this.#schema))
      }
      return
    }
    this.#metrics?.committed(batch.length, performance.now() - sent)
    if (result.committed) this.#onCommitted(result.committed)
    settleAll(batch, result.outcomes)
    if (!result.all) return this.#otherWriters.forget()
    this.#otherWriters.wrote(result.all.before, result.all.after)
    const replanning = this.#connection.grew(result.all.after, result.all.links)
    if (replanning) await replanning
  }

  /** The batch failed without the server saying it rolled back: finds out whether it committed (outcomes.ts). */
  #settleLost(batch: Envelope[], attempt: Attempt, error: unknown): Promise<Settlement> {
    const lost = isConnectionLoss(error)
    if (lost) void this.#connection.close()
    return settleLost(batch, attempt, error, lost, this.#settling)
  }
}

const stoppedBeforeSent = () => new ConnectionError('the event store was stopped before this write was sent; nothing was written')
