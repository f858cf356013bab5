// The writer actor: the one place on the main thread through which every append and link
// of the process goes, batch by batch, in mailbox order. While a batch's transaction is in
// flight, new requests queue; the next turn takes them as one batch (group commit), so many
// appends share one commit and its disk flush. Each caller still gets its own result: the
// plan checks every request on its own, and should the batch transaction fail as a whole,
// each request is retried alone so one bad request cannot fail the others.
//
// The store posts appends unprepared (messages.ts PendingAppend): the writer checks and
// serialises their events as it takes them. Starting from idle it prepares and sends half
// of what is queued, then prepares the rest while PostgreSQL writes that half, instead of
// preparing everything before anything is sent.
//
// Batches of appends (one statement each, whatever their expected versions; lib/storage/append.ts) are
// pipelined: up to two go out back to back on the writer's own connection, which runs them
// in the order sent. While PostgreSQL writes one, this thread prepares the next. Anything
// else waits for them to finish.
//
// Outcomes are never guessed. Only an error the server reported for a statement means the
// batch was rolled back. When the connection is lost after a batch was sent, the writer
// waits for the server and looks for one thing the batch wrote (its witness): found, the
// batch committed and its callers get their results; not found, it goes to the head of the
// queue again; the server not back within outcomeTimeout, the callers get a ConnectionError
// with details.outcome 'unknown'.
import { setTimeout as sleep } from 'node:timers/promises'
import { Mailbox } from '../actors/mailbox.js'
import { withTimeout } from '../actors/timeout.js'
import { AbortedError, ConnectionError, type EventStoreError, OverloadedError, TimeoutError } from '../errors.js'
import { eventsChannel, newOrigin, type NotifyTarget } from '../notifications/notification.js'
import type { Report } from '../reports.js'
import { isWritten, type Witness, writeExpected, writeLocking } from '../storage/append.js'
import type { Sql } from '../storage/database.js'
import { isConnectionLoss, isNeverSent, isRolledBack, toEventStoreError } from '../storage/pg_errors.js'
import { deleteStream } from '../storage/streams.js'
import type { CommittedEvents, WritePlan } from '../storage/write_plan.js'
import type { WriteOptions } from '../types.js'
import type { StoreMetrics } from '../observability/metrics.js'
import { assumeExpectedStates, batchLookups, planBatch } from './group_commit.js'
import { type PendingAppend, requestSize, requestTextUnits, type WriteRequest, type WriterMessage } from './messages.js'

interface Envelope {
  request: WriterMessage | PendingAppend
  resolve: () => void
  reject: (error: Error) => void
  /** Detaches abort listeners and timers once the request leaves the queue. */
  release: () => void
  /** Settled while still queued (withdrawn, or its events refused): skipped when taken. */
  settled: boolean
  /** Times its batch was sent again after a lost connection left it not committed. */
  retries: number
}

/** What a batch's requests came to: each one's outcome (null: written), and the events written. */
interface BatchResult {
  outcomes: (EventStoreError | null)[]
  committed: CommittedEvents | null
}

/** What was last sent for a batch, to settle it should the connection be lost. */
interface Attempt {
  witness: Witness | null
  outcomes: (EventStoreError | null)[]
}

/** Counts batches by how they were written, for the writer's stats. */
export interface WriteCounts {
  expected: number
  locking: number
}

/**
 * Most UTF-16 units of data and metadata in one batch: they travel joined into one text
 * parameter each, and a JavaScript string holds at most 2^29 units.
 */
const MAX_BATCH_TEXT_UNITS = 2 ** 27

/** Pipelined batches in flight at once (see the top of this file). */
const PIPELINE_DEPTH = 2
/** Times a batch found not committed after a lost connection is sent again before its callers get the error. */
const MAX_RETRIES = 2
/** Pause between attempts to reach the server to settle an unknown outcome. */
const OUTCOME_POLL_MS = 200

export interface WriterOptions {
  /** Most rows (events + links) one batch writes, unless a single request is larger. */
  maxBatchRows?: number
  /** Requests held at most; beyond it `post` refuses with OverloadedError. Default 10,000. */
  maxQueued?: number
  /**
   * Opens a client of the writer's own (max 1) whose connection carries every batch, the
   * pipelined ones back to back; the writer ends it (and opens another) when its connection
   * fails or a batch outlives outcomeTimeout. Without it, batches go one at a time on `sql`.
   */
  openConnection?: () => Sql
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
  readonly #sql: Sql
  readonly #openConnection: (() => Sql) | null
  readonly #schema: string
  readonly #notify: NotifyTarget
  readonly #maxBatchRows: number
  readonly #maxQueued: number
  readonly #outcomeTimeout: number
  readonly #report: Report
  readonly #onCommitted: (committed: CommittedEvents) => void
  readonly #onOutcomeUnknown: () => void
  readonly #metrics: StoreMetrics | null
  /** Queued envelopes, settled ones included until they reach the head. */
  readonly #mailbox = new Mailbox<Envelope>()
  /** Queued envelopes not yet settled. */
  #live = 0
  /** Batches being written: up to PIPELINE_DEPTH pipelined ones, or one exclusive one. */
  #inFlight = 0
  /** The streams the batches in flight write, each with how many of them write it. */
  readonly #streamsInFlight = new Map<string, number>()
  #exclusive = false
  #pumpScheduled = false
  #preparationScheduled = false
  readonly #whenIdle: (() => void)[] = []
  /** The writer's own client; null until first needed, or after its connection failed. */
  #connection: Sql | null = null
  #stopped = false
  /** stop() was cut short: batches whose outcome is in doubt are not looked into any more. */
  #abandoned = false
  #batches = 0
  #requests = 0
  readonly #writes: WriteCounts = { expected: 0, locking: 0 }

  constructor(sql: Sql, schema: string, options: WriterOptions = {}) {
    this.#sql = sql
    this.#openConnection = options.openConnection ?? null
    this.#schema = schema
    this.#maxBatchRows = options.maxBatchRows ?? 10_000
    this.#maxQueued = options.maxQueued ?? 10_000
    this.#outcomeTimeout = options.outcomeTimeout ?? 15_000
    this.#report = options.report ?? (() => {})
    this.#notify = { channel: eventsChannel(schema), origin: options.origin ?? newOrigin() }
    this.#onCommitted = options.onCommitted ?? (() => {})
    this.#onOutcomeUnknown = options.onOutcomeUnknown ?? (() => {})
    this.#metrics = options.metrics ?? null
  }

  /** Queues a request; settles when it is committed or refused. */
  post(request: WriterMessage | PendingAppend, options: WriteOptions = {}): Promise<void> {
    if (this.#stopped) return Promise.reject(new ConnectionError('the event store has been stopped'))
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(new AbortedError('the append was aborted before it was queued', { reason: String(signal.reason) }))
    if (this.#live >= this.#maxQueued) {
      return Promise.reject(new OverloadedError(`the writer already holds ${this.#live} requests (maxQueuedWrites); nothing was written, retry later`, { queued: this.#live }))
    }
    return new Promise<void>((resolve, reject) => {
      const envelope: Envelope = { request, resolve, reject, release: () => {}, settled: false, retries: 0 }
      // Abort and timeout act while the request waits in the mailbox; once its batch is
      // being written, the caller gets the batch's real outcome (release() detaches them).
      const withdraw = (error: Error) => this.#settleQueued(envelope, error)
      const onAbort = () => withdraw(new AbortedError('the append was aborted while queued; nothing was written'))
      signal?.addEventListener('abort', onAbort, { once: true })
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => withdraw(new TimeoutError(`the append waited ${timeout} ms in the writer's queue; nothing was written`)), timeout)
      envelope.release = () => {
        signal?.removeEventListener('abort', onAbort)
        if (timer) clearTimeout(timer)
      }
      this.#mailbox.post(envelope)
      this.#live += 1
      this.#schedulePump()
    })
  }

  /** Rejects a request still in the queue; it is skipped when its turn comes. */
  #settleQueued(envelope: Envelope, error: Error): void {
    if (envelope.settled) return
    envelope.settled = true
    this.#live -= 1
    envelope.release()
    envelope.reject(error)
  }

  /** Drops settled envelopes from the head, so the head is the next live request. */
  #skipSettled(): void {
    while (this.#mailbox.at(0)?.settled) this.#mailbox.shift()
  }

  /** Takes the first `count` live requests off the queue. */
  #take(count: number): Envelope[] {
    const taken: Envelope[] = []
    while (taken.length < count) {
      const envelope = this.#mailbox.shift() as Envelope
      if (envelope.settled) continue
      envelope.settled = true
      envelope.release()
      taken.push(envelope)
    }
    this.#live -= taken.length
    return taken
  }

  /** Requests waiting for the next turn. */
  get queued(): number {
    return this.#live
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
    while (this.#inFlight > 0 || this.#live > 0) await new Promise<void>((resolve) => this.#whenIdle.push(resolve))
    await this.#closeConnection()
  }

  /**
   * Gives up on what stop() still waits for: queued requests are refused (nothing of them
   * was sent), the connection carrying batches in flight is closed, and a batch whose outcome
   * that leaves in doubt fails with details.outcome 'unknown' instead of being looked into.
   */
  abandon(): void {
    this.#stopped = true
    this.#abandoned = true
    this.#skipSettled()
    const refused = stoppedBeforeSent()
    while (this.#live > 0) for (const envelope of this.#take(this.#live)) envelope.reject(refused)
    void this.#closeConnection(true)
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

  /** Starts every batch that may go now; runs again whenever one is posted or finishes. */
  #pump(): void {
    while (this.#live > 0 && !this.#exclusive && this.#inFlight < PIPELINE_DEPTH) {
      const idle = this.#inFlight === 0
      this.#skipSettled()
      // From idle, pending appends headed for the pipeline are prepared half at a time: the
      // first half is sent at once, the rest prepared while PostgreSQL writes it.
      const halves = idle && startsPipeline(this.#mailbox.at(0))
      this.#prepareFromHead(halves ? Math.ceil(this.#live / 2) : Infinity)
      this.#skipSettled()
      if (this.#live === 0) break
      let length = this.#batchLength()
      const pipelined = this.#openConnection !== null && this.#isPipelined(length)
      if (pipelined) {
        // With nothing in flight and the queue already prepared, half of it goes first and
        // the rest right behind it, planned while the first half is written.
        if (idle && !halves) length = Math.ceil(length / 2)
      } else if (!idle) {
        return // waits for the pipelined batches; their end pumps again
      }
      // A batch whose statement fails is rewritten after the one behind it has committed: the
      // one behind must not touch its streams, or it could take their versions first.
      if (!idle && this.#touchesStreamsInFlight(length)) return
      const batch = this.#take(length)
      const streams = batch.map((envelope) => (envelope.request as WriterMessage).streamId)
      this.#countInFlight(streams, 1)
      this.#inFlight += 1
      this.#exclusive = !pipelined
      void this.#write(batch).finally(() => {
        this.#countInFlight(streams, -1)
        this.#inFlight -= 1
        this.#exclusive = false
        this.#pump()
      })
      if (this.#hasPending()) {
        this.#schedulePreparation()
        break
      }
    }
    // Requests that must wait for a free turn are prepared now, while PostgreSQL is busy.
    if (this.#inFlight > 0 && !this.#preparationScheduled) this.#prepareFromHead(Infinity)
    if (this.#inFlight === 0 && this.#live === 0) for (const resolve of this.#whenIdle.splice(0)) resolve()
  }

  /** Whether one of the first `length` live requests writes a stream a batch in flight writes. */
  #touchesStreamsInFlight(length: number): boolean {
    for (let i = 0, seen = 0; seen < length; i += 1) {
      const envelope = this.#mailbox.at(i) as Envelope
      if (envelope.settled) continue
      seen += 1
      if (this.#streamsInFlight.has((envelope.request as WriterMessage).streamId)) return true
    }
    return false
  }

  #countInFlight(streams: string[], change: 1 | -1): void {
    for (const stream of streams) {
      const count = (this.#streamsInFlight.get(stream) ?? 0) + change
      if (count === 0) this.#streamsInFlight.delete(stream)
      else this.#streamsInFlight.set(stream, count)
    }
  }

  /** Whether an unprepared append is queued: it is always behind the prepared ones. */
  #hasPending(): boolean {
    for (let i = this.#mailbox.length - 1; i >= 0; i -= 1) {
      const envelope = this.#mailbox.at(i) as Envelope
      if (!envelope.settled) return envelope.request.type === 'pending append'
    }
    return false
  }

  /** Whether the first `length` live requests are appends the one-statement write can take: safe to pipeline. */
  #isPipelined(length: number): boolean {
    const requests: WriteRequest[] = []
    for (let i = 0; requests.length < length; i += 1) {
      const envelope = this.#mailbox.at(i) as Envelope
      if (envelope.settled) continue
      if (envelope.request.type !== 'append') return false
      requests.push(envelope.request)
    }
    return assumeExpectedStates(requests) !== null
  }

  /**
   * Prepares the pending appends left in the mailbox, then pumps. Runs after the current
   * microtasks, by which time the statement just started has been sent (postgres.js sends
   * on a later microtask).
   */
  #schedulePreparation(): void {
    if (this.#preparationScheduled) return
    this.#preparationScheduled = true
    setImmediate(() => {
      this.#preparationScheduled = false
      this.#prepareFromHead(Infinity)
      this.#pump()
    })
  }

  /** Prepares up to `count` requests from the head; one whose events are refused leaves with the error. */
  #prepareFromHead(count: number): void {
    let prepared = 0
    for (let index = 0; index < this.#mailbox.length && prepared < count; index += 1) {
      const envelope = this.#mailbox.at(index) as Envelope
      const { request } = envelope
      if (envelope.settled) continue
      prepared += 1
      if (request.type !== 'pending append') continue
      try {
        envelope.request = request.prepare()
      } catch (error) {
        this.#settleQueued(envelope, error as Error)
      }
    }
  }

  /** The writer's own client (one connection), opened on first use and after a failure. */
  #client(): Sql {
    if (!this.#openConnection) return this.#sql
    this.#connection ??= this.#openConnection()
    return this.#connection
  }

  /**
   * Ends the writer's client; the next batch opens a new one. `now`: queries still running
   * on it fail at once (a batch that outlived its bound).
   */
  async #closeConnection(now = false): Promise<void> {
    const connection = this.#connection
    this.#connection = null
    if (!connection) return
    await connection.end({ timeout: now ? 0 : 5 }).catch((error: unknown) => this.#report('warning', 'writer', 'closing the writer connection failed', error))
  }

  /** How many live requests the next batch takes from the head of the mailbox. */
  #batchLength(): number {
    let rows = 0
    let units = 0
    let count = 0
    for (let index = 0; index < this.#mailbox.length; index += 1) {
      const envelope = this.#mailbox.at(index) as Envelope
      if (envelope.settled) continue
      if (envelope.request.type === 'pending append') break // not prepared yet
      // A deletion goes alone: what follows it in the mailbox must see it done.
      if (envelope.request.type === 'delete' && count > 0) break
      const size = requestSize(envelope.request)
      const text = requestTextUnits(envelope.request)
      if (count > 0 && (rows + size > this.#maxBatchRows || units + text > MAX_BATCH_TEXT_UNITS)) break
      rows += size
      units += text
      count += 1
      if (envelope.request.type === 'delete') break
    }
    return count
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
      result = await this.#bounded(this.#execute(batch, attempt))
    } catch (error) {
      if (isNeverSent(error)) {
        // PostgreSQL could not be reached: nothing was sent, every caller may retry.
        const failure = toEventStoreError(error, this.#schema)
        for (const envelope of batch) envelope.reject(failure)
        return
      }
      const settled = isRolledBack(error) ? false : await this.#settleLost(batch, attempt, error)
      if (!settled) {
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
  }

  /** Plans and sends a batch; `attempt` records what was sent, should the connection be lost. */
  async #execute(batch: Envelope[], attempt: Attempt): Promise<BatchResult> {
    // Each batch queues its statement on the writer's connection before its first await,
    // so the connection gets the batches in mailbox order.
    const sql = this.#client()
    const [first] = batch
    if (first?.request.type === 'delete') {
      attempt.witness = { type: 'deleted', streamUuid: first.request.streamId }
      attempt.outcomes = [null]
      return { outcomes: [await deleteStream(sql, first.request)], committed: null }
    }
    const requests = batch.map((e) => e.request as WriteRequest)
    const assumed = assumeExpectedStates(requests)
    if (assumed) {
      const plan = planBatch(requests, assumed.snapshot)
      // A refusal is only certain once the state it was judged against is known to hold.
      if (plan.write && plan.outcomes.every((outcome) => outcome === null)) {
        try {
          recordAttempt(attempt, plan.write, plan.outcomes)
          const { first: offset, createdAt } = await writeExpected(sql, this.#notify, plan.write, assumed)
          this.#writes.expected += 1
          return { outcomes: plan.outcomes, committed: plan.write.eventCount > 0 ? { events: plan.write.events, positionOffset: offset, createdAt } : null }
        } catch (error) {
          // Anything the server refused was rolled back; the locking write finds out exactly what.
          if (!isRolledBack(error)) throw error
        }
      }
    }
    this.#writes.locking += 1
    let outcomes: (EventStoreError | null)[] = []
    let write: WritePlan | null = null
    const { createdAt } = await writeLocking(sql, this.#notify, batchLookups(requests), (snapshot) => {
      const plan = planBatch(requests, snapshot)
      outcomes = plan.outcomes
      write = plan.write
      if (write) recordAttempt(attempt, write, outcomes)
      return write
    })
    const written = write as WritePlan | null
    // A batch with links is not handed off: a link's event is not in the plan, so only a read gets it.
    const handedOff = written !== null && written.eventCount > 0 && written.links.positions.length === 0
    return { outcomes, committed: handedOff ? { events: written.events, positionOffset: 0, createdAt } : null }
  }

  /** A batch that outlives outcomeTimeout has its connection closed under it: it fails, and is settled as lost. */
  #bounded<T>(work: Promise<T>): Promise<T> {
    if (!this.#openConnection) return work
    const timer = setTimeout(() => {
      this.#report('warning', 'writer', `a batch took longer than ${this.#outcomeTimeout} ms; closing its connection`)
      void this.#closeConnection(true)
    }, this.#outcomeTimeout)
    return work.finally(() => clearTimeout(timer))
  }

  /**
   * The batch failed without the server saying it rolled back: finds out whether it
   * committed (nothing was sent for writing when it has no witness yet) and settles its
   * callers (see the top of this file). Returns false when it was not committed and the
   * failure was not the connection's (the caller treats it as rolled back), true when it
   * settled the batch.
   */
  async #settleLost(batch: Envelope[], attempt: Attempt, error: unknown): Promise<boolean> {
    const lost = isConnectionLoss(error)
    if (lost) void this.#closeConnection()
    const written = attempt.witness === null ? false : await this.#isWritten(attempt.witness)
    // Subscriptions read what may have been written: it was not handed to them.
    if (written !== false) this.#onOutcomeUnknown()
    if (written === false && !lost) return false
    if (written === true) {
      this.#report('warning', 'writer', 'the connection was lost as a batch committed; it had committed', error, { requests: batch.length })
      settleAll(batch, attempt.outcomes)
    } else if (written === false && !this.#abandoned && batch.every((envelope) => envelope.retries < MAX_RETRIES)) {
      this.#report('warning', 'writer', 'the connection was lost before a batch committed; sending it again', error, { requests: batch.length })
      for (const envelope of batch) {
        envelope.retries += 1
        envelope.settled = false
      }
      this.#mailbox.unshiftAll(batch)
      this.#live += batch.length
    } else {
      const outcome = written === false ? 'not_committed' : 'unknown'
      const failure = new ConnectionError(
        this.#abandoned
          ? `the event store was stopped while this write was in flight; ${outcome === 'unknown' ? 'whether it committed is not known' : 'it was not committed'}`
          : outcome === 'unknown'
            ? `the connection was lost as the write committed, and PostgreSQL could not be reached within ${this.#outcomeTimeout} ms to find out whether it did`
            : `the write was not committed: the connection was lost ${MAX_RETRIES + 1} times`,
        { outcome },
        { cause: error },
      )
      this.#report(outcome === 'unknown' ? 'error' : 'warning', 'writer', failure.message, error, { requests: batch.length, outcome })
      for (const envelope of batch) envelope.reject(failure)
    }
    return true
  }

  /** Whether the witness is stored; null when the server cannot be asked within outcomeTimeout. */
  async #isWritten(witness: Witness): Promise<boolean | null> {
    const deadline = Date.now() + this.#outcomeTimeout
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0 || this.#abandoned) return null
      try {
        return await withTimeout(isWritten(this.#sql, witness), left, () => new Error('no answer'))
      } catch {
        await sleep(Math.min(OUTCOME_POLL_MS, Math.max(0, deadline - Date.now())))
      }
    }
  }
}

const stoppedBeforeSent = () => new ConnectionError('the event store was stopped before this write was sent; nothing was written')

/** Settles each caller with its request's outcome (null: written). */
function settleAll(batch: Envelope[], outcomes: (EventStoreError | null)[]): void {
  batch.forEach((envelope, index) => {
    const outcome = outcomes[index]
    if (outcome) envelope.reject(outcome)
    else envelope.resolve()
  })
}

/** Notes what a write will store first, to look for it should the connection be lost. */
function recordAttempt(attempt: Attempt, write: WritePlan, outcomes: (EventStoreError | null)[]): void {
  const eventId = write.events.eventIds[0]
  const linked = write.links.streams[0]
  attempt.witness =
    eventId !== undefined
      ? { type: 'event', eventId }
      : { type: 'link', streamUuid: linked as string, position: write.links.positions[0] as number }
  attempt.outcomes = outcomes
}

/** The head is a pending append: its batch is likely pipelined. */
function startsPipeline(head: Envelope | undefined): boolean {
  return head?.request.type === 'pending append'
}
