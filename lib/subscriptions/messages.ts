// Every message into and out of a subscription actor and its subscribers' threads, shared by
// the main thread and the workers (= the receive clauses of commanded's subscription.ex and
// subscriber.ex): piscina tasks and their outcomes, one-way messages, and the calls with a
// reply each side answers (over lib/actors/calls.ts).
import type { WireError } from '../errors.js'
import type { MessagePort } from 'node:worker_threads'
import type { ClosedReason } from './handle.js'
import type { RecordedEvent } from '../types.js'
import type { ResolvedFilter } from '../filter.js'
import type { ActorStatus } from '../observability/status.js'

/** What the actor needs to know of a subscription; plain data, it crosses threads. */
export interface SubscriptionSpec {
  /** `$all` or a stream id. */
  streamId: string
  name: string
  /** Checkpoint of a new subscription: 0 (origin), -1 (current) or N. */
  startFrom: number
  maxSize: number
  checkpointThreshold: number
  checkpointAfter: number
  transient: boolean
  /** Whether events carry partition keys, computed by the subscriber side's partitionBy. */
  partitioned: boolean
  /** Of $all, only these events (read with the filter in SQL); null: all. */
  filter: ResolvedFilter | null
}

/** An event as the actor tracks it: its key when the subscription is partitioned. */
export interface QueuedEvent {
  event: RecordedEvent
  partitionKey: string | null
}

/** Into the actor's mailbox. */
export type SubscriptionMessage =
  | { type: 'connect'; subscriberId: string; bufferSize: number }
  | { type: 'subscriber_down'; subscriberId: string; error: WireError | null }
  | { type: 'ack'; subscriberId: string; eventNumbers: number[] }
  | { type: 'notify'; lastPosition: number | null }
  /** Events this process's writer committed (lib/subscriptions/hand_off.ts); `last` ends their batch in $all. */
  | { type: 'committed'; events: QueuedEvent[]; last: number }
  | { type: 'lock_result'; acquired: boolean }
  | { type: 'lock_lost' }
  /** A store holding fewer items wants this one: finish what is in flight, then unlock. */
  | { type: 'hand_over' }
  /** In flight for too long while handing over: unlock anyway (the rest is delivered again). `drain` names the hand-over. */
  | { type: 'hand_over_due'; drain: number }
  | { type: 'checkpoint_loaded'; checkpoint: number }
  /** `scanned`: of a filtered read, every position up to it was looked at (events beyond the page's last did not match). */
  | { type: 'read_done'; readId: number; events: QueuedEvent[]; requested: number; scanned?: number }
  | { type: 'read_failed'; readId: number; error: WireError }
  | { type: 'retry_lock' }
  | { type: 'checkpoint_timer' }
  | { type: 'unsubscribe' }

/** From the actor to one subscriber's endpoint. */
export type EndpointMessage =
  | { type: 'subscribed' }
  /** Batches in order, each of one stream and one correlation id, sent together to save hops. */
  | { type: 'events'; batches: RecordedEvent[][] }
  | { type: 'closed'; reason: 'unsubscribed' | 'error'; error: WireError | null }

/** From a subscriber's endpoint to the actor. */
export type SubscriberReply =
  | { type: 'ack'; eventNumbers: number[] }
  | { type: 'failed'; error: WireError }
  /** Sent after the subscriber's last ack on the same port, so unsubscribing loses no ack. */
  | { type: 'leave' }

/** What the main thread calls on an actor. */
export interface SubscriptionControl {
  /** `port`: the subscriber's end of its channel (EndpointMessage out, SubscriberReply in). */
  /**
   * Resolves once the actor has taken the subscriber in; rejects with a ConnectionError whose
   * details say `actorStopping` when the actor stopped first (its last subscriber had left).
   */
  connect(subscriberId: string, port: MessagePort, bufferSize: number): Promise<void>
  notify(lastPosition: number | null): void
  /** Returns once the actor has the message; its task ends when it has stopped. */
  unsubscribe(): void
  status(): ActorStatus
}

/** What an actor calls on the main thread, where the options' functions live. */
export interface SubscriptionCallbacks {
  partitionKeys(events: RecordedEvent[]): (string | null)[]
}

/** The piscina task that hosts an actor (workers/subscription_worker.ts). */
export interface SubscriptionTask {
  spec: SubscriptionSpec
  /** SubscriptionControl is called here. */
  control: MessagePort
  /** SubscriptionCallbacks are called here; null: the subscription needs none. */
  callbacks: MessagePort | null
  /** The writer's committed events (lib/subscriptions/hand_off.ts). */
  feed: MessagePort
  /** The store's lock session is called here (lib/locks/messages.ts). */
  locks: MessagePort
}

/** How an actor's task ends. */
export interface SubscriptionOutcome {
  reason: 'unsubscribed' | 'error'
  error: WireError | null
}

/** Which module an actor-module subscriber's thread runs, for which subscription. */
export interface ModuleHost {
  moduleUrl: string
  streamId: string
  name: string
}

/** The piscina task of an actor-module subscriber (workers/subscriber_worker.ts). */
export interface ModuleSubscriberTask extends ModuleHost {
  /** Its end of the channel to the actor. */
  port: MessagePort
  /** ModuleStatus goes out here. */
  status: MessagePort
}

/** What the subscriber's thread posts on its status port once its module is loaded. */
export type ModuleStatus = { type: 'loaded' }

/** How the subscriber's task ended. */
export type ModuleOutcome = { type: 'load_failed'; error: WireError } | { type: 'ended'; reason: ClosedReason['reason']; error: WireError | null }
