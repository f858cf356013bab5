// The main thread's side of subscriptions: spawns one actor per subscription in the worker
// pool, attaches subscribers to it (functions here, actor modules in the pool), routes
// notifications to the actors concerned, and hears when an actor stops.
import { randomUUID } from 'node:crypto'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { Piscina } from 'piscina'
import { Caller, serve } from '../actors/calls.js'
import type { WorkerContextData } from '../actors/pool.js'
import { untilAborted, withTimeout } from '../actors/timeout.js'
import type { Report } from '../reports.js'
import { type SubscriberThread, startModuleSubscriber } from './module_subscriber.js'
import { ConnectionError, fromWire, SubscriptionAlreadyExistsError, SubscriptionNotFoundError, toWire } from '../errors.js'
import { Listener } from '../notifications/listener.js'
import { LockHost } from '../locks/host.js'
import type { Locks } from '../locks/lock_session.js'
import { concerns, type Notification, wakeEveryone } from '../notifications/notification.js'
import { workerUrl } from '../package_files.js'
import type { Sql } from '../storage/database.js'
import { type Codec, decodeEvents } from '../serializer.js'
import { toEventStoreError } from '../storage/pg_errors.js'
import { deleteSubscription } from '../storage/subscriptions.js'
import type { CommittedEvents } from '../storage/write_plan.js'
import type { RecordedEvent } from '../types.js'
import { type HandOff, handOffFor } from './hand_off.js'
import { Subscription } from './handle.js'
import type { SubscriptionCallbacks, SubscriptionControl, SubscriptionOutcome, SubscriptionSpec, SubscriptionTask } from './messages.js'
import type { StoreMetrics } from '../observability/metrics.js'
import type { LocalSubscription } from '../observability/status.js'
import type { ResolvedOptions } from './options.js'
import type { Subscriber } from './subscriber.js'
import { SubscriberEndpoint } from './subscriber_endpoint.js'

/**
 * A function run in the calling thread, or the URL / path of an actor module run on a thread
 * of its own. What a function is delivered is known only to the caller's types.
 */
export type SubscriberOrModule = Subscriber<unknown> | URL | string

interface Actor {
  spec: SubscriptionSpec
  concurrencyLimit: number
  /** Subscribers being attached: they hold a place under concurrencyLimit before any await. */
  joining: number
  control: Caller<SubscriptionControl>
  /** Where the writer's committed events go to the actor. */
  feed: MessagePort
  subscribers: Set<Subscription<unknown>>
  /** Settles when the actor's task ends, whatever the cause. */
  exited: Promise<SubscriptionOutcome>
}

/** How long a call into an actor may take before it counts as lost. */
const CALL_TIMEOUT_MS = 30_000

/** What the store's subscriptions run on. */
export interface SubscriptionsHost {
  pool: Piscina
  sql: Sql
  /** The store's LISTEN session (lib/storage/connections.ts openListenSession). */
  listenOn: Sql
  /** The store's lock session, which each actor reaches over a port of its task. */
  locks: Locks
  schema: string
  codec: Codec
  /** This store's writer signs its notifications with it (lib/notifications/notification.ts). */
  origin: string
  context: WorkerContextData
  report: Report
  metrics: StoreMetrics
}

export class Subscriptions {
  readonly #locks: Locks
  readonly #pool: Piscina
  /** What module subscribers' threads are started with (the store's worker context). */
  readonly #context: WorkerContextData
  readonly #report: Report
  /** Threads of actor-module subscribers, ended at stop. */
  readonly #moduleThreads = new Set<SubscriberThread>()
  readonly #sql: Sql
  readonly #schema: string
  readonly #actors = new Map<string, Actor>()
  readonly #listener: Listener
  #listening: Promise<void> | null = null

  readonly #codec: Codec
  /** This store's writer signs its notifications with it (lib/notifications/notification.ts). */
  readonly #origin: string

  readonly #metrics: StoreMetrics

  constructor({ pool, sql, listenOn, locks, schema, codec, origin, context, report, metrics }: SubscriptionsHost) {
    this.#locks = locks
    this.#metrics = metrics
    this.#context = context
    this.#report = report
    this.#codec = codec
    this.#origin = origin
    this.#pool = pool
    this.#sql = sql
    this.#schema = schema
    this.#listener = new Listener(sql, listenOn, schema, (notification) => this.#notify(notification), report)
  }

  /** `autoAck`: the subscriber's end acks each batch once the handler returns (transient subscriptions). */
  async subscribe(streamId: string, name: string, subscriber: SubscriberOrModule, options: ResolvedOptions, autoAck = false): Promise<Subscription<unknown>> {
    const key = `${streamId}\u0000${name}`
    // Checked and taken before any await, so simultaneous subscribes cannot all pass.
    const existing = this.#actors.get(key)
    if (existing && existing.subscribers.size + existing.joining >= existing.concurrencyLimit) {
      throw new SubscriptionAlreadyExistsError(
        `subscription "${name}" to ${streamId === '$all' ? 'all streams' : `stream "${streamId}"`} already has ${existing.subscribers.size + existing.joining} of ${existing.concurrencyLimit} subscribers`,
        { streamId, name },
      )
    }
    const actor = existing ?? this.#spawn(key, streamId, name, options)
    actor.joining += 1
    let joined = false
    try {
      await this.#startListener()
      const subscription = await this.#attach(actor, subscriber, options, autoAck, () => {
        actor.joining -= 1
        joined = true
      })
      return subscription
    } catch (error) {
      if (!joined) actor.joining -= 1
      // The actor found here was stopping (its last subscriber had just left): once it has
      // stopped, a new one takes the subscriber. Its half-joined subscription closes with it.
      if (existing && (actor.control.closed || (error instanceof ConnectionError && error.details?.actorStopping === true))) {
        await actor.exited
        return this.subscribe(streamId, name, subscriber, options, autoAck)
      }
      // An actor spawned for nobody stops again.
      if (actor.subscribers.size === 0 && actor.joining === 0) this.#tell(actor, 'stopping an unused subscription actor failed', 'unsubscribe')
      throw error
    }
  }

  /** Stops the subscription in this store; its checkpoint is stored. Resolves when it has stopped. */
  async unsubscribe(streamId: string, name: string): Promise<boolean> {
    const actor = this.#actors.get(`${streamId}\u0000${name}`)
    if (!actor) return false
    const local = [...actor.subscribers].map((s) => s.endpoint)
    if (local.length > 0 && local.every((endpoint) => endpoint !== null)) {
      // Each subscriber leaves on its own channel, behind its acks: none is lost.
      for (const endpoint of local) endpoint?.leave()
    } else {
      this.#tell(actor, 'the unsubscribe call failed; waiting for the actor to stop', 'unsubscribe')
    }
    await actor.exited
    return true
  }

  /** A call whose reply nobody awaits; one the actor's stopping cut short is no news. */
  #tell<K extends 'notify' | 'unsubscribe'>(actor: Actor, failure: string, method: K, ...args: Parameters<SubscriptionControl[K]>): void {
    actor.control.call(method, args).catch((error: unknown) => {
      if (!actor.control.closed) this.#warn(actor, failure, error)
    })
  }

  #warn(actor: Actor, message: string, error: unknown): void {
    this.#report('warning', 'subscription', `subscription "${actor.spec.name}": ${message}`, error, { streamId: actor.spec.streamId, name: actor.spec.name })
  }

  /** Stops the subscription if it runs here, then forgets its checkpoint. */
  async delete(streamId: string, name: string): Promise<void> {
    await this.unsubscribe(streamId, name)
    let deleted: boolean
    try {
      deleted = await deleteSubscription(this.#sql, streamId, name)
    } catch (error) {
      throw toEventStoreError(error, this.#schema)
    }
    if (!deleted) throw new SubscriptionNotFoundError(`no subscription "${name}" to ${streamId}`, { streamId, name })
  }

  /** Stops every subscription, waiting at most `ms` (or until `cut` aborts) for their last checkpoints. */
  async stopAll(ms: number, cut: AbortSignal): Promise<void> {
    const stopping = Promise.all([...this.#actors.values()].map((a) => this.unsubscribe(a.spec.streamId, a.spec.name)))
    await withTimeout(untilAborted(stopping, cut, () => new Error('stop() was cut short')), ms, () => new Error(`subscriptions did not stop within ${ms} ms`)).catch((error: unknown) =>
      this.#report('warning', 'subscription', 'stopping subscriptions', error),
    )
    await Promise.all([...this.#moduleThreads].map((thread) => thread.terminate()))
    await this.#listener.stop()
  }

  #startListener(): Promise<void> {
    this.#listening ??= this.#listener.start().catch((error: unknown) => {
      this.#listening = null
      throw toEventStoreError(error, this.#schema)
    })
    return this.#listening
  }

  /** Gives each actor the events of a batch this process's writer just committed. */
  handOff(committed: CommittedEvents): void {
    // A partitioned actor needs each event's key, which only its read asks for; a filtered
    // one reads only what matches, with the filter in SQL.
    let all: HandOff | null = null
    for (const actor of this.#actors.values()) {
      if (readsOnly(actor.spec)) continue
      const { streamId } = actor.spec
      const message = streamId === '$all' ? (all ??= handOffFor(committed, '$all')) : handOffFor(committed, streamId)
      if (message) actor.feed.postMessage(message)
    }
  }

  /** What each actor of this store tells of itself; one that does not answer within `ms` shows as null. */
  async localStatus(ms: number): Promise<LocalSubscription[]> {
    return Promise.all(
      [...this.#actors.values()].map(async (actor) => ({
        streamId: actor.spec.streamId,
        name: actor.spec.name,
        subscribers: actor.subscribers.size,
        // Not a warning: status() is polled (the admin page), and a busy or stopping actor
        // shows as null, which is what the caller reports.
        actor: await actor.control.call('status', [], { timeout: ms }).catch(() => null),
      })),
    )
  }

  /** After a write whose outcome is unknown: every actor reads, in case it committed. */
  wakeAll(): void {
    this.#notify(wakeEveryone)
  }

  #notify(notification: Notification): void {
    // This store's writer handed the events to its actors already (handOff), except to partitioned ones.
    const handedOff = notification.origin === this.#origin
    for (const actor of this.#actors.values()) {
      if (handedOff && !readsOnly(actor.spec)) continue
      if (concerns(notification, actor.spec.streamId)) this.#tell(actor, 'a notification did not reach it', 'notify', notification.last)
    }
  }

  #spawn(key: string, streamId: string, name: string, options: ResolvedOptions): Actor {
    const spec: SubscriptionSpec = {
      streamId,
      name,
      startFrom: options.startFrom,
      maxSize: options.maxSize,
      checkpointThreshold: options.checkpointThreshold,
      checkpointAfter: options.checkpointAfter,
      transient: options.transient,
      partitioned: options.partitionBy !== undefined,
      filter: options.filter,
    }
    const control = new MessageChannel()
    const feed = new MessageChannel()
    const callbacks = options.partitionBy ? new MessageChannel() : null
    const lockHost = new LockHost(this.#locks, this.#report)
    if (callbacks && options.partitionBy) {
      const partitionBy = options.partitionBy
      // One key per stored event: an event split by an upcaster is keyed by its first part.
      const partitionKeys = (events: RecordedEvent[]) =>
        events.map((stored) => {
          const [event] = decodeEvents(this.#codec, [stored])
          const key = event === undefined ? null : partitionBy(event)
          return key === undefined || key === null ? null : String(key)
        })
      serve<SubscriptionCallbacks>(callbacks.port1, { partitionKeys })
    }
    const transferList = [control.port2, feed.port2, lockHost.port, ...(callbacks ? [callbacks.port2] : [])]
    const task = this.#pool.run(
      { spec, control: control.port2, callbacks: callbacks?.port2 ?? null, feed: feed.port2, locks: lockHost.port } satisfies SubscriptionTask,
      { filename: workerUrl('subscription_worker').href, transferList: transferList as never },
    ) as Promise<SubscriptionOutcome>
    const exited = task.catch(
      (error: unknown): SubscriptionOutcome => ({
        reason: 'error',
        error: toWire(new ConnectionError(`the worker hosting subscription "${name}" died: ${(error as Error)?.message ?? error}`)),
      }),
    )
    const actor: Actor = {
      spec,
      concurrencyLimit: options.concurrencyLimit,
      joining: 0,
      control: new Caller(control.port1, `the call to subscription "${name}"`),
      feed: feed.port1,
      subscribers: new Set(),
      exited,
    }
    this.#actors.set(key, actor)
    void exited.then((outcome) => {
      // An actor whose thread died did not release its lock, which the store's session holds.
      void this.#locks.unlock(`${this.#schema}:${streamId}:${name}`, true).catch((error: unknown) => this.#report('warning', 'subscription', `releasing the lock of subscription "${name}" failed`, error, { streamId, name }))
      if (this.#actors.get(key) === actor) this.#actors.delete(key)
      actor.control.close(new ConnectionError(`subscription "${name}" stopped`))
      actor.feed.close()
      callbacks?.port1.close()
      lockHost.close()
      const error = outcome.error ? fromWire(outcome.error) : null
      if (error) this.#report('error', 'subscription', `subscription "${name}" stopped`, error, { streamId, name })
      for (const subscription of actor.subscribers) {
        // A module subscriber's own thread tells how it ended, unless the actor failed.
        if (subscription.endpoint || error) subscription.settle({ reason: outcome.reason, error })
      }
    })
    return actor
  }

  /** Connects a subscriber to the actor; `joined` runs once it counts among the actor's subscribers. */
  async #attach(actor: Actor, subscriber: SubscriberOrModule, options: ResolvedOptions, autoAck: boolean, joined: () => void): Promise<Subscription<unknown>> {
    const { streamId, name } = actor.spec
    const channel = new MessageChannel()
    const subscriberId = randomUUID()
    let subscription: Subscription<unknown>
    const unsubscribe = () => this.unsubscribe(streamId, name).then(() => undefined)
    if (typeof subscriber === 'function') {
      const endpoint = new SubscriberEndpoint<Subscription<unknown>>(channel.port2, subscriber, () => subscription, {
        selector: options.selector,
        mapper: options.mapper,
        codec: this.#codec,
        autoAck,
        label: { schema: this.#schema, streamId, name },
        onDelivered: (events) => this.#metrics.delivered(events),
      })
      subscription = new Subscription(streamId, name, endpoint, unsubscribe)
      void endpoint.ended.then((end) => {
        if (end.error) this.#subscriberFailed(subscription, end.error)
      })
    } else {
      const moduleUrl = subscriber instanceof URL ? subscriber.href : new URL(subscriber, `file://${process.cwd()}/`).href
      let thread: SubscriberThread
      try {
        thread = await startModuleSubscriber(this.#context, { moduleUrl, streamId, name }, channel.port2, this.#report)
      } catch (error) {
        channel.port1.close()
        throw error
      }
      this.#moduleThreads.add(thread)
      subscription = new Subscription(streamId, name, null, unsubscribe)
      void thread.ended.then((end) => {
        this.#moduleThreads.delete(thread)
        if (end.error) this.#subscriberFailed(subscription, end.error)
        else subscription.settle(end)
      })
    }
    actor.subscribers.add(subscription)
    joined()
    void subscription.closed.then(() => actor.subscribers.delete(subscription))
    const connected = actor.control.call('connect', [subscriberId, channel.port1, options.bufferSize], { transfer: [channel.port1] })
    try {
      await withTimeout(connected, CALL_TIMEOUT_MS, () => new ConnectionError('the subscription actor did not answer'))
    } catch (error) {
      // Not handed over: closing the actor's end tells the subscriber's end there is no actor.
      channel.port1.close()
      throw error
    }
    return subscription
  }

  /** A subscriber threw or its thread died: its subscription alone ends, with the error. */
  #subscriberFailed(subscription: Subscription<unknown>, error: Error): void {
    this.#report('error', 'subscription', `a subscriber of "${subscription.name}" failed; its subscription closed`, error, { streamId: subscription.streamId, name: subscription.name })
    subscription.settle({ reason: 'error', error })
  }
}

/** Actors that take no hand-off from the writer: they read every event they deliver. */
const readsOnly = (spec: SubscriptionSpec): boolean => spec.partitioned || spec.filter !== null

/** Names of transient subscriptions (`store.subscribe`), reserved so they never meet a user's. */
export const TRANSIENT_PREFIX = '$transient-'
