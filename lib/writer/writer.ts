// The writer actor: the one place on the main thread through which every append and link
// of the process goes, one batch at a time, in mailbox order. While a batch's transaction
// is in flight, new requests queue; the next turn takes them all as one batch (group
// commit), so many appends share one commit and its disk flush. Each caller still gets its
// own result: the plan checks every request on its own, and should the batch transaction
// fail as a whole, each request is retried alone so one bad request cannot fail the others.
import { AbortedError, ConnectionError, TimeoutError } from '../errors.js'
import { eventsChannel, newOrigin, type NotifyTarget } from '../notifications/notification.js'
import { type BatchResult, type CommittedEvents, type WriteCounts, writeBatch } from '../storage/append.js'
import type { Sql } from '../storage/database.js'
import { isRolledBack, toEventStoreError } from '../storage/pg_errors.js'
import type { WriteOptions } from '../types.js'
import { deleteStream } from '../storage/streams.js'
import { requestSize, type WriteRequest, type WriterMessage } from './messages.js'

interface Envelope {
  request: WriterMessage
  resolve: () => void
  reject: (error: Error) => void
  /** Detaches abort listeners and timers once the request leaves the queue. */
  release: () => void
}

export interface WriterOptions {
  /** Most rows (events + links) one batch writes, unless a single request is larger. */
  maxBatchRows?: number
  /** Signs the notifications of batches handed to onCommitted (lib/notifications/notification.ts). */
  origin?: string
  /** Hears every batch's events once committed, before the appends resolve. Must not throw. */
  onCommitted?: (committed: CommittedEvents) => void
  /** A batch failed in a way that leaves it unknown whether it committed (a lost connection). */
  onOutcomeUnknown?: () => void
}

export class Writer {
  readonly #sql: Sql
  readonly #schema: string
  readonly #notify: NotifyTarget
  readonly #maxBatchRows: number
  readonly #onCommitted: (committed: CommittedEvents) => void
  readonly #onOutcomeUnknown: () => void
  readonly #mailbox: Envelope[] = []
  #turn: Promise<void> | null = null
  #stopped = false
  #batches = 0
  #requests = 0
  readonly #writes: WriteCounts = { expected: 0, locking: 0 }

  constructor(sql: Sql, schema: string, options: WriterOptions = {}) {
    this.#sql = sql
    this.#schema = schema
    this.#maxBatchRows = options.maxBatchRows ?? 10_000
    this.#notify = { channel: eventsChannel(schema), origin: options.origin ?? newOrigin() }
    this.#onCommitted = options.onCommitted ?? (() => {})
    this.#onOutcomeUnknown = options.onOutcomeUnknown ?? (() => {})
  }

  /** Queues a request; settles when it is committed or refused. */
  post(request: WriterMessage, options: WriteOptions = {}): Promise<void> {
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
      this.#turn ??= this.#drain()
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
    await this.#turn
  }

  async #drain(): Promise<void> {
    await null // let requests posted in the same tick join the first batch
    while (this.#mailbox.length > 0) {
      const batch = this.#takeBatch()
      await this.#write(batch)
    }
    this.#turn = null
  }

  #takeBatch(): Envelope[] {
    let rows = 0
    let count = 0
    for (const envelope of this.#mailbox) {
      // A deletion goes alone: what follows it in the mailbox must see it done.
      if (envelope.request.type === 'delete' && count > 0) break
      const size = requestSize(envelope.request)
      if (count > 0 && rows + size > this.#maxBatchRows) break
      rows += size
      count += 1
      if (envelope.request.type === 'delete') break
    }
    const batch = this.#mailbox.splice(0, count)
    for (const envelope of batch) envelope.release()
    return batch
  }

  async #write(batch: Envelope[]): Promise<void> {
    this.#batches += 1
    this.#requests += batch.length
    let result: BatchResult
    try {
      const [first] = batch
      result =
        first?.request.type === 'delete'
          ? { outcomes: [await deleteStream(this.#sql, first.request)], committed: null }
          : await writeBatch(this.#sql, this.#notify, batch.map((e) => e.request as WriteRequest), this.#writes)
    } catch (error) {
      if (batch.length > 1 && isRolledBack(error)) {
        for (const envelope of batch) await this.#write([envelope])
      } else {
        if (!isRolledBack(error)) this.#onOutcomeUnknown()
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
