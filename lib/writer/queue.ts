// The writer's mailbox: each request in an envelope that settles its caller. A request
// withdrawn while it waits (aborted, timed out, its events refused) is settled at once and
// skipped when its turn comes, so withdrawing never searches the queue.
import { Mailbox } from '../actors/mailbox.js'
import { AbortedError, type EventStoreError, TimeoutError } from '../errors.js'
import type { Queued } from './batching.js'
import type { PendingAppend, WriterMessage } from './messages.js'

export interface Envelope extends Queued {
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

export class WriteQueue {
  /** Queued envelopes, settled ones included until they reach the head. */
  readonly envelopes = new Mailbox<Envelope>()
  #live = 0

  /** Queued requests not yet settled. */
  get live(): number {
    return this.#live
  }

  /**
   * Queues a request; settles when its batch does. Abort and timeout act while it waits
   * here; once its batch is being written, the caller gets the batch's real outcome.
   */
  enqueue(request: WriterMessage | PendingAppend, signal: AbortSignal | undefined, timeout: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const envelope: Envelope = { request, resolve, reject, release: () => {}, settled: false, retries: 0 }
      const withdraw = (error: Error) => this.withdraw(envelope, error)
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
      this.envelopes.post(envelope)
      this.#live += 1
    })
  }

  /** Rejects a request still in the queue; it is skipped when its turn comes. */
  withdraw(envelope: Envelope, error: Error): void {
    if (envelope.settled) return
    envelope.settled = true
    this.#live -= 1
    envelope.release()
    envelope.reject(error)
  }

  /** Drops settled envelopes from the head, so the head is the next live request. */
  skipSettled(): void {
    while (this.envelopes.at(0)?.settled) this.envelopes.shift()
  }

  /** Takes the first `count` live requests off the queue. */
  take(count: number): Envelope[] {
    const taken: Envelope[] = []
    while (taken.length < count) {
      const envelope = this.envelopes.shift() as Envelope
      if (envelope.settled) continue
      envelope.settled = true
      envelope.release()
      taken.push(envelope)
    }
    this.#live -= taken.length
    return taken
  }

  /** Puts a batch found not committed back at the head, to be sent again. */
  putBack(batch: Envelope[]): void {
    for (const envelope of batch) {
      envelope.retries += 1
      envelope.settled = false
    }
    this.envelopes.unshiftAll(batch)
    this.#live += batch.length
  }

  /**
   * Prepares up to `count` live requests from the head (checks and serialises the events of
   * pending appends); one whose events are refused leaves with the error.
   */
  prepare(count: number): void {
    let prepared = 0
    for (let index = 0; index < this.envelopes.length && prepared < count; index += 1) {
      const envelope = this.envelopes.at(index) as Envelope
      const { request } = envelope
      if (envelope.settled) continue
      prepared += 1
      if (request.type !== 'pending append') continue
      try {
        envelope.request = request.prepare()
      } catch (error) {
        this.withdraw(envelope, error as Error)
      }
    }
  }
}

/** Settles each caller with its request's outcome (null: written). */
export function settleAll(batch: readonly Envelope[], outcomes: readonly (EventStoreError | null)[]): void {
  batch.forEach((envelope, index) => {
    const outcome = outcomes[index]
    if (outcome) envelope.reject(outcome)
    else envelope.resolve()
  })
}
