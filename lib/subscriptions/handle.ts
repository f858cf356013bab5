// What `subscribeTo…` returns: the caller's handle on its subscriber. Events: 'error'
// (the subscriber threw, or its worker died) and 'closed' ({ reason, error }).
import { EventEmitter } from 'node:events'
import { InvalidArgumentError } from '../errors.js'
import { cancellable } from '../actors/cancellable.js'
import type { CallOptions, RecordedEvent } from '../types.js'
import { checkCallOptions } from '../validation.js'
import type { Acknowledgement } from './subscriber.js'
import type { SubscriberEndpoint } from './subscriber_endpoint.js'

export interface ClosedReason {
  reason: 'unsubscribed' | 'error'
  error: Error | null
}

/** `T`: what its subscriber is delivered, which `ack` takes back. */
export class Subscription<T = RecordedEvent> extends EventEmitter {
  readonly streamId: string
  readonly name: string
  /** @internal the subscriber's end of its channel when it runs in this thread */
  readonly endpoint: SubscriberEndpoint<Subscription<unknown>> | null
  readonly #unsubscribe: () => Promise<void>
  #settle: (closed: ClosedReason) => void = () => {}
  #settled = false
  /** Settles once this subscriber is done: unsubscribed, or stopped by an error. */
  readonly closed: Promise<ClosedReason>

  constructor(streamId: string, name: string, endpoint: SubscriberEndpoint<Subscription<unknown>> | null, unsubscribe: () => Promise<void>) {
    super()
    this.streamId = streamId
    this.name = name
    this.endpoint = endpoint
    this.#unsubscribe = unsubscribe
    this.closed = new Promise((resolve) => {
      this.#settle = resolve
    })
  }

  /**
   * Acknowledges an event, an event number (with every earlier one delivered to this
   * subscriber), a mapped value, or a list of them. Call it from the subscriber's thread.
   */
  ack(acknowledgement: Acknowledgement<T> | readonly Acknowledgement<T>[]): void {
    if (!this.endpoint) {
      throw new InvalidArgumentError('this subscriber is an actor module: ack with the subscription its function receives')
    }
    this.endpoint.ack(acknowledgement)
  }

  /**
   * Stops the whole subscription in this store, storing its checkpoint. `signal` / `timeout`
   * stop the waiting (the subscription still stops).
   */
  async unsubscribe(options?: CallOptions): Promise<void> {
    const call = checkCallOptions(options)
    await cancellable(call, 'unsubscribing', () => this.#unsubscribe())
  }

  /** @internal called once by the store when this subscriber ends. */
  settle(closed: ClosedReason): void {
    if (this.#settled) return
    this.#settled = true
    // An 'error' event with no listener would throw and take the process down: only emit it when heard.
    if (closed.error && this.listenerCount('error') > 0) this.emit('error', closed.error)
    this.emit('closed', closed)
    this.#settle(closed)
  }
}

/** What subscribing an actor module returns: its acks come from the module's own thread. */
export type ModuleSubscriptionHandle = Omit<Subscription, 'ack'>
