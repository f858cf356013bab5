// What a subscriber sees (README, Subscriptions): its messages, what `ack` takes, and the
// types of a subscriber function and of an actor module's default export. `T` is what is
// delivered: the events themselves, or what the `mapper` option returns.
import type { RecordedEvent } from '../types.js'
import type { Subscription } from './handle.js'

/** `subscribed` once this store holds the subscription, then batches of `events`. */
export type SubscriberMessage<T = RecordedEvent, S = Subscription<T>> =
  | { type: 'subscribed'; subscription: S }
  | { type: 'events'; events: T[]; subscription: S }

/**
 * What `ack` takes: an event number (it acks every earlier event delivered too), an event, or
 * a delivered value that is an object (a primitive can't be told apart from another: ack its
 * event number). When what is delivered is `unknown`, any object, checked when acked.
 */
export type Acknowledgement<T = RecordedEvent> = (T & object) | RecordedEvent | number

/** A subscriber function, run in the calling thread. */
export type Subscriber<T = RecordedEvent> = (message: SubscriberMessage<T>) => void | Promise<void>

/** What an actor module's subscriber gets as its second argument and as `message.subscription`. */
export interface ModuleSubscription<T = RecordedEvent> {
  readonly streamId: string
  readonly name: string
  ack(acknowledgement: Acknowledgement<T> | readonly Acknowledgement<T>[]): void
}

/**
 * An actor module's default export. What it is delivered can't be inferred from a URL: give
 * `T` when the module exports a `mapper`.
 */
export type ModuleSubscriber<T = RecordedEvent> = (message: SubscriberMessage<T, ModuleSubscription<T>>, subscription: ModuleSubscription<T>) => void | Promise<void>
