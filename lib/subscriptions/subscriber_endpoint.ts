// The subscriber's end of its channel to a subscription actor, in the subscriber's own
// thread (the caller's for a function, a worker's for an actor module). It hands messages to
// the subscriber one at a time, applies the selector and mapper there, and turns `ack`
// calls into exact acknowledgements. An exception in the subscriber ends it: the actor hears
// `failed`, takes its unacknowledged events back, and stops when no subscriber is left.
import type { MessagePort } from 'node:worker_threads'
import { describe } from '../expected_version.js'
import { fromWire, InvalidArgumentError, toWire } from '../errors.js'
import { type Codec, decodeEvents } from '../serializer.js'
import type { RecordedEvent } from '../types.js'
import type { EndpointMessage, SubscriberReply } from './messages.js'
import type { SubscriberMessage } from './subscriber.js'
import { channels, traced } from '../observability/channels.js'

/** The subscriber as the endpoint calls it: what it delivers is only known to the caller's types. */
type Handler<S> = (message: SubscriberMessage<unknown, S>) => unknown

export interface EndpointOptions {
  /** How this thread turns stored data back into terms; default JSON. */
  codec?: Codec
  selector?: ((event: RecordedEvent) => boolean) | undefined
  mapper?: ((event: RecordedEvent) => unknown) | undefined
  /** Ack each batch once the handler returns (transient subscriptions). */
  autoAck?: boolean
  /** Which subscription this is, for the delivery channel (lib/observability/channels.ts). */
  label?: { schema: string; streamId: string; name: string }
  /** Counts each batch handed to the subscriber. */
  onDelivered?: (events: number) => void
}

export interface EndpointEnd {
  reason: 'unsubscribed' | 'error'
  error: Error | null
}

export class SubscriberEndpoint<S> {
  readonly #port: MessagePort
  readonly #options: EndpointOptions
  /** Delivered, not yet acknowledged. */
  readonly #inFlight = new Set<number>()
  /** Mapped values (objects) → their event numbers, so `ack(mapped)` works too. */
  readonly #numberOf = new Map<unknown, number>()
  #pendingAcks: number[] = []
  #flushScheduled = false
  #turn: Promise<void> = Promise.resolve()
  #closed = false
  #ended: (end: EndpointEnd) => void = () => {}
  /** Settles when the channel closes: unsubscribed, the subscriber failed, or the actor stopped. */
  readonly ended: Promise<EndpointEnd>

  constructor(port: MessagePort, handler: Handler<S>, subscription: () => S, options: EndpointOptions = {}) {
    this.#port = port
    this.#options = options
    this.ended = new Promise((resolve) => {
      this.#ended = resolve
    })
    port.on('message', (message: EndpointMessage) => {
      this.#turn = this.#turn.then(() => this.#receive(message, handler, subscription))
    })
    port.on('close', () => this.#finish({ reason: 'unsubscribed', error: null }))
  }

  /** Acknowledges an event, an event number (and every earlier one delivered), a mapped value, or a list. */
  ack(acknowledgement: unknown): void {
    const items = Array.isArray(acknowledgement) ? acknowledgement : [acknowledgement]
    let upTo = Number.NEGATIVE_INFINITY
    for (const item of items) upTo = Math.max(upTo, this.#eventNumber(item))
    this.#acknowledge([...this.#inFlight].filter((pending) => pending <= upTo))
  }

  #eventNumber(item: unknown): number {
    if (typeof item === 'number' && Number.isSafeInteger(item)) return item
    const mapped = this.#numberOf.get(item)
    if (mapped !== undefined) return mapped
    const number = (item as RecordedEvent | null)?.eventNumber
    if (typeof number === 'number') return number
    throw new InvalidArgumentError(`ack takes an event, an event number or a list of them; got ${describe(item)}`)
  }

  /** Acks gather until the current turn of the event loop ends, then cross in one message. */
  #acknowledge(eventNumbers: number[]): void {
    for (const n of eventNumbers) if (this.#inFlight.delete(n)) this.#pendingAcks.push(n)
    if (this.#pendingAcks.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flushAcks())
    }
  }

  #flushAcks(): void {
    this.#flushScheduled = false
    if (this.#pendingAcks.length === 0 || this.#closed) return
    this.#port.postMessage({ type: 'ack', eventNumbers: this.#pendingAcks } satisfies SubscriberReply)
    this.#pendingAcks = []
  }

  async #receive(message: EndpointMessage, handler: Handler<S>, subscription: () => S): Promise<void> {
    if (this.#closed) return
    try {
      if (message.type === 'closed') {
        this.#finish({ reason: message.reason, error: message.error ? fromWire(message.error) : null })
      } else if (message.type === 'subscribed') {
        await handler({ type: 'subscribed', subscription: subscription() })
      } else {
        for (const batch of message.batches) await this.#deliver(batch, handler, subscription)
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      this.#flushAcks()
      this.#port.postMessage({ type: 'failed', error: toWire(failure) } satisfies SubscriberReply)
      this.#finish({ reason: 'error', error: failure })
    }
  }

  async #deliver(stored: RecordedEvent[], handler: Handler<S>, subscription: () => S): Promise<void> {
    const { selector, mapper, autoAck, codec } = this.#options
    const events = codec ? decodeEvents(codec, stored) : stored
    const selected: RecordedEvent[] = []
    const rejected: number[] = []
    for (const event of events) {
      this.#inFlight.add(event.eventNumber)
      if (!selector || selector(event)) selected.push(event)
      else rejected.push(event.eventNumber)
    }
    this.#acknowledge(rejected) // = commanded: events a selector rejects count as acked
    if (selected.length === 0) return
    const delivered = mapper
      ? selected.map((event) => {
          const value = mapper(event)
          if (typeof value === 'object' && value !== null) this.#numberOf.set(value, event.eventNumber)
          return value
        })
      : selected
    const { label, onDelivered } = this.#options
    const deliver = () => Promise.resolve(handler({ type: 'events', events: delivered, subscription: subscription() }))
    if (label) {
      const message = () => ({ schema: label.schema, streamId: label.streamId, subscription: label.name, events: selected })
      await traced(channels.delivery, message, deliver)
    } else {
      await deliver()
    }
    onDelivered?.(selected.length)
    if (autoAck) this.#acknowledge(selected.map((event) => event.eventNumber))
    if (this.#numberOf.size > 0) for (const [value, number] of this.#numberOf) if (!this.#inFlight.has(number)) this.#numberOf.delete(value)
  }

  /** Leaves the subscription after the acks already sent: the actor stores them, then drops this subscriber. */
  leave(): void {
    this.#flushAcks()
    if (!this.#closed) this.#port.postMessage({ type: 'leave' } satisfies SubscriberReply)
  }

  #finish(end: EndpointEnd): void {
    if (this.#closed) return
    this.#closed = true
    this.#port.close()
    this.#ended(end)
  }
}
