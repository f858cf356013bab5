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
// Batches of appends with exact expectations (one statement each, lib/storage/append.ts) are
// pipelined: up to two go out back to back on the writer's own connection, which runs them
// in the order sent. While PostgreSQL writes one, this thread prepares the next. Anything
// else waits for them to finish.
import { AbortedError, ConnectionError, TimeoutError } from '../errors.js'
import { eventsChannel, newOrigin, type NotifyTarget } from '../notifications/notification.js'
import { type BatchResult, type CommittedEvents, type WriteCounts, writeBatch } from '../storage/append.js'
import type { ReservedSql, Sql } from '../storage/database.js'
import { isRolledBack, toEventStoreError } from '../storage/pg_errors.js'
import type { WriteOptions } from '../types.js'
import { deleteStream } from '../storage/streams.js'
import { assumeExpectedStates, isExactExpectation } from './group_commit.js'
import { type PendingAppend, requestSize, type WriteRequest, type WriterMessage } from './messages.js'

interface Envelope {
  request: WriterMessage | PendingAppend
  resolve: () => void
  reject: (error: Error) => void
  /** Detaches abort listeners and timers once the request leaves the queue. */
  release: () => void
}

/** Pipelined batches in flight at once (see the top of this file). */
const PIPELINE_DEPTH = 2

export interface WriterOptions {
  /** Most rows (events + links) one batch writes, unless a single request is larger. */
  maxBatchRows?: number
  /**
   * Opens a client of the writer's own (max 1) whose connection carries the pipelined
   * batches, so they never wait for a connection from the pool; the writer ends it (and
   * opens another should its connection fail). Without it, batches go one at a time.
   */
  openPipeline?: () => Sql
  /** Signs the notifications of batches handed to onCommitted (lib/notifications/notification.ts). */
  origin?: string
  /** Hears every batch's events once committed, before the appends resolve. Must not throw. */
  onCommitted?: (committed: CommittedEvents) => void
  /** A batch failed in a way that leaves it unknown whether it committed (a lost connection). */
  onOutcomeUnknown?: () => void
}

export class Writer {
  readonly #sql: Sql
  readonly #openPipeline: (() => Sql) | null
  readonly #schema: string
  readonly #notify: NotifyTarget
  readonly #maxBatchRows: number
  readonly #onCommitted: (committed: CommittedEvents) => void
  readonly #onOutcomeUnknown: () => void
  readonly #mailbox: Envelope[] = []
  /** Batches being written: up to PIPELINE_DEPTH pipelined ones, or one exclusive one. */
  #inFlight = 0
  #exclusive = false
  #pumpScheduled = false
  #preparationScheduled = false
  readonly #whenIdle: (() => void)[] = []
  /** The pipeline client and its reserved connection; null until first needed, or after it failed. */
  #pipeline: { client: Sql; reserved: Promise<ReservedSql> } | null = null
  #stopped = false
  #batches = 0
  #requests = 0
  readonly #writes: WriteCounts = { expected: 0, locking: 0 }

  constructor(sql: Sql, schema: string, options: WriterOptions = {}) {
    this.#sql = sql
    this.#openPipeline = options.openPipeline ?? null
    this.#schema = schema
    this.#maxBatchRows = options.maxBatchRows ?? 10_000
    this.#notify = { channel: eventsChannel(schema), origin: options.origin ?? newOrigin() }
    this.#onCommitted = options.onCommitted ?? (() => {})
    this.#onOutcomeUnknown = options.onOutcomeUnknown ?? (() => {})
  }

  /** Queues a request; settles when it is committed or refused. */
  post(request: WriterMessage | PendingAppend, options: WriteOptions = {}): Promise<void> {
    if (this.#stopped) return Promise.reject(new ConnectionError('the event store has been stopped'))
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(new AbortedError('the append was aborted before it was queued', { reason: String(signal.reason) }))
    return new Promise<void>((resolve, reject) => {
      const envelope: Envelope = { request, resolve, reject, release: () => {} }
      // Abort and timeout act while the request waits in the mailbox; once its batch is
      // being written, the caller gets the batch's real outcome.
      const withdraw = (error: Error) => {
        const index = this.#mailbox.indexOf(envelope)
        if (index === -1) return
        this.#mailbox.splice(index, 1)
        envelope.release()
        reject(error)
      }
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
      this.#mailbox.push(envelope)
      this.#schedulePump()
    })
  }

  /** Requests waiting for the next turn. */
  get queued(): number {
    return this.#mailbox.length
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
    while (this.#inFlight > 0 || this.#mailbox.length > 0) await new Promise<void>((resolve) => this.#whenIdle.push(resolve))
    await this.#closePipeline()
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
    while (this.#mailbox.length > 0 && !this.#exclusive && this.#inFlight < PIPELINE_DEPTH) {
      const idle = this.#inFlight === 0
      // From idle, pending appends headed for the pipeline are prepared half at a time: the
      // first half is sent at once, the rest prepared while PostgreSQL writes it.
      const halves = idle && startsPipeline(this.#mailbox)
      this.#prepareFromHead(halves ? Math.ceil(this.#mailbox.length / 2) : Infinity)
      if (this.#mailbox.length === 0) break
      let batch = this.#mailbox.slice(0, this.#batchLength())
      const pipelined = this.#openPipeline !== null && isPipelined(batch)
      if (pipelined) {
        // With nothing in flight and the queue already prepared, half of it goes first and
        // the rest right behind it, planned while the first half is written.
        if (idle && !halves) batch = batch.slice(0, Math.ceil(batch.length / 2))
      } else if (!idle) {
        return // waits for the pipelined batches; their end pumps again
      }
      this.#mailbox.splice(0, batch.length)
      for (const envelope of batch) envelope.release()
      this.#inFlight += 1
      this.#exclusive = !pipelined
      void this.#write(batch, pipelined).finally(() => {
        this.#inFlight -= 1
        this.#exclusive = false
        this.#pump()
      })
      if (this.#mailbox.some(isPending)) {
        this.#schedulePreparation()
        break
      }
    }
    // Requests that must wait for a free turn are prepared now, while PostgreSQL is busy.
    if (this.#inFlight > 0 && !this.#preparationScheduled) this.#prepareFromHead(Infinity)
    if (this.#inFlight === 0 && this.#mailbox.length === 0) for (const resolve of this.#whenIdle.splice(0)) resolve()
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
    let index = 0
    while (index < this.#mailbox.length && index < count) {
      const envelope = this.#mailbox[index] as Envelope
      const { request } = envelope
      if (request.type === 'pending append') {
        try {
          envelope.request = request.prepare()
        } catch (error) {
          this.#mailbox.splice(index, 1)
          envelope.release()
          envelope.reject(error as Error)
          continue
        }
      }
      index += 1
    }
  }

  #reservePipe(): Promise<ReservedSql> {
    if (!this.#pipeline) {
      const client = (this.#openPipeline as () => Sql)()
      this.#pipeline = { client, reserved: client.reserve() }
    }
    return this.#pipeline.reserved
  }

  /** Ends the pipeline client; after a failure, the next pipelined batch opens a new one. */
  async #closePipeline(): Promise<void> {
    const pipeline = this.#pipeline
    this.#pipeline = null
    if (!pipeline) return
    await pipeline.reserved.then((reserved) => reserved.release(), () => {})
    await pipeline.client.end({ timeout: 5 }).catch(() => {})
  }

  /** How many requests the next batch takes from the head of the mailbox. */
  #batchLength(): number {
    let rows = 0
    let count = 0
    for (const envelope of this.#mailbox) {
      if (envelope.request.type === 'pending append') break // not prepared yet
      // A deletion goes alone: what follows it in the mailbox must see it done.
      if (envelope.request.type === 'delete' && count > 0) break
      const size = requestSize(envelope.request)
      if (count > 0 && rows + size > this.#maxBatchRows) break
      rows += size
      count += 1
      if (envelope.request.type === 'delete') break
    }
    return count
  }

  /** Writes one batch; a pipelined one sends its statement on the reserved connection. */
  async #write(batch: Envelope[], pipelined: boolean): Promise<void> {
    this.#batches += 1
    this.#requests += batch.length
    let result: BatchResult
    let pipe: ReservedSql | null = null
    try {
      // Batches awaiting the same reservation resume in order, and each sends its
      // statement before its next await: the connection gets them in mailbox order.
      pipe = pipelined ? await this.#reservePipe() : null
      const [first] = batch
      result =
        first?.request.type === 'delete'
          ? { outcomes: [await deleteStream(this.#sql, first.request)], committed: null }
          : await writeBatch(this.#sql, this.#notify, batch.map((e) => e.request as WriteRequest), { counts: this.#writes, pipe })
    } catch (error) {
      if (batch.length > 1 && isRolledBack(error)) {
        for (const envelope of batch) await this.#write([envelope], false)
      } else {
        if (!isRolledBack(error)) {
          if (pipelined) void this.#closePipeline() // the next pipelined batch opens a healthy connection
          this.#onOutcomeUnknown()
        }
        const failure = toEventStoreError(error, this.#schema)
        for (const envelope of batch) envelope.reject(failure)
      }
      return
    }
    if (result.committed) this.#onCommitted(result.committed)
    batch.forEach((envelope, index) => {
      const outcome = result.outcomes[index]
      if (outcome) envelope.reject(outcome)
      else envelope.resolve()
    })
  }
}

const isPending = (envelope: Envelope): boolean => envelope.request.type === 'pending append'

/** The head is a pending append with an exact expectation: its batch is likely pipelined. */
function startsPipeline(mailbox: Envelope[]): boolean {
  const head = mailbox[0]?.request
  return head?.type === 'pending append' && isExactExpectation(head.expected)
}

/** Appends that all state exact expectations: one statement each, safe to pipeline. */
function isPipelined(batch: Envelope[]): boolean {
  const requests = batch.map((e) => e.request as WriterMessage)
  return requests.every((r) => r.type === 'append') && assumeExpectedStates(requests as WriteRequest[]) !== null
}
