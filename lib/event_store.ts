// EventStore: the public face. Each method checks its input at the edge, then hands the work
// to the part of the store that does it (store_parts.ts): writes to the writer actor on this
// thread, reads to the reader workers, subscriptions and projections to their actors.
import { EventEmitter } from 'node:events'
import { cancellable, cutShort } from './actors/cancellable.js'
import { type EventStoreConfig, redactUrl, type ResolvedConfig } from './config.js'
import { parseExpectedVersion } from './expected_version.js'
import { attachOpenTelemetry, loadOpenTelemetry } from './observability/otel.js'
import { StoreMetrics, type MetricsSnapshot } from './observability/metrics.js'
import { ReportRelay } from './observability/report_relay.js'
import { type StoreStatus, storeMetrics, storeStatus } from './store/status.js'
import { telemetrySource } from './store/telemetry.js'
import type { ProjectionHandle, ProjectionHandler, ProjectOptions } from './projections/projection.js'
import type { RebuildOptions } from './projections/rebuild.js'
import { mainThreadQuery, type Query } from './storage/query.js'
import type { ReadAllOptions, StreamAllOptions, StreamReadOptions } from './readers/read_options.js'
import { paginateStreams, streamInfo } from './readers/stream_listing.js'
import type { StoreReport } from './reports.js'
import { dropSchema, grantRole, initSchema, migrateSchema } from './store/schema_commands.js'
import { openStore } from './store/startup.js'
import { assembleStore, shutDown, type StoreParts } from './store/parts.js'
import type { ModuleSubscriptionHandle, Subscription } from './subscriptions/handle.js'
import type { ModuleSubscriptionOptions, SubscriptionOptions, TransientSubscriptionOptions } from './subscriptions/options.js'
import { checkSubscribedStream, subscribePersistent } from './subscriptions/persistent.js'
import type { SubscriberOrModule } from './subscriptions/subscribe.js'
import type { Subscriber } from './subscriptions/subscriber.js'
import { subscribeTransient } from './subscriptions/transient.js'
import { ALL_STREAM, type CallOptions, type EventData, type ExpectedVersion, type PaginateOptions, type RecordedEvent } from './types.js'
import type { RecordedSnapshot, SnapshotData, StreamInfo, StreamPage, WriteOptions } from './types.js'
import { checkCallOptions, checkStreamId, checkText, checkWritableStreamId } from './validation.js'
import { checkEventList } from './writer/prepare_events.js'
import { checkDeleteMode, checkLinkedEventIds } from './writer/writes.js'

export type { StoreStatus } from './store/status.js'
export type { ReadAllOptions, StreamAllOptions, StreamReadOptions } from './readers/read_options.js'

export class EventStore extends EventEmitter<{ warning: [StoreReport]; error: [StoreReport] }> {
  /** The settings in force; `url` is the one connected to (also the embedded server's), its password shown as ***. */
  readonly config: ResolvedConfig
  readonly #parts: StoreParts
  readonly #relay: ReportRelay
  readonly #query: Query
  readonly #stopNow = new AbortController()
  #stopping: Promise<void> | null = null

  private constructor(opened: Awaited<ReturnType<typeof openStore>>) {
    super()
    const metrics = new StoreMetrics()
    this.config = { ...opened.resolved, url: redactUrl(opened.context.url), sessionUrl: redactUrl(opened.resolved.sessionUrl) }
    this.#relay = new ReportRelay(this, opened.resolved.logger, metrics, opened.context.storeId)
    this.#query = mainThreadQuery(opened.resolved.schema, () => this.#stopping !== null)
    this.#parts = assembleStore(opened, this.#relay, metrics, this.#query)
    this.#relay.warnIfDriverUnguarded()
  }

  /**
   * Connects to PostgreSQL (or starts the embedded server) and starts the writer and the
   * reader workers. The schema must have been made by `pg-eventstore init`.
   * @throws {SchemaError} code 'schema' when the schema is missing or out of date
   * @throws {ConnectionError} code 'connection' when PostgreSQL cannot be reached or refuses
   *   the URL's user, password or database (`details.sqlstate` when the server said why)
   * @example
   * const store = await EventStore.start({ schema: 'orders' })
   * await store.appendToStream('order-1', 0, [{ eventType: 'OrderPlaced', data: { total: 42 } }])
   * await store.stop()
   */
  static async start(config: EventStoreConfig = {}): Promise<EventStore> {
    const store = new EventStore(await openStore(config))
    const openTelemetry = store.config.openTelemetry ? await loadOpenTelemetry() : null
    if (openTelemetry) store.#parts.detachTelemetry = attachOpenTelemetry(openTelemetry, telemetrySource(store.#parts, () => store.status()))
    return store
  }

  /** Creates the store's tables in its schema (`pg-eventstore init`). */
  static async init(config: EventStoreConfig = {}): Promise<void> {
    await initSchema(config)
  }

  /** Applies pending migrations (`pg-eventstore migrate`); returns the versions applied. */
  static async migrate(config: EventStoreConfig = {}): Promise<number[]> {
    return migrateSchema(config)
  }

  /**
   * Lets an existing role run the store with no more rights than it needs: read, append,
   * keep checkpoints and snapshots; it owns nothing, so it cannot alter or drop the tables
   * (`pg-eventstore grant --role NAME`). Run it as the owner, after init or migrate.
   */
  static async grant(config: EventStoreConfig, role: string, options: { hardDeletes?: boolean } = {}): Promise<void> {
    await grantRole(config, role, options.hardDeletes === true)
  }

  /** Removes the store's tables from its schema (`pg-eventstore drop`). */
  static async drop(config: EventStoreConfig = {}): Promise<void> {
    await dropSchema(config)
  }

  /**
   * Stops projections and subscriptions (storing their checkpoints), drains the writer, stops
   * the workers, closes the pools and releases the embedded server. Resolves within about
   * outcomeTimeout + 20 s even while PostgreSQL is down: every step has a bound.
   * `signal` or `timeout` cut the waiting short: appends still queued are refused (nothing
   * of them was sent), writes in flight end with details.outcome 'unknown' unless already
   * settled, batches of projections roll back, connections close at once; stop() then
   * resolves and a 'warning' report says it was cut short.
   * @example
   * await store.stop({ timeout: 2000 })  // at most ~2 s of draining, then close regardless
   */
  stop(options?: CallOptions): Promise<void> {
    let cutBy: CallOptions
    try {
      cutBy = checkCallOptions(options)
    } catch (error) {
      return Promise.reject(error)
    }
    const release = cutShort(cutBy, this.#stopNow)
    this.#stopping ??= shutDown(this.#parts, this.#relay, this.#stopNow.signal)
    void this.#stopping.finally(release)
    return this.#stopping
  }

  /**
   * What the store is doing: the writer, the worker pool, and every subscription of the
   * schema (those of other processes too, read from the database).
   * @example
   * for (const s of (await store.status()).subscriptions) console.log(s.name, s.state, s.lag.events)
   */
  async status(options?: CallOptions): Promise<StoreStatus> {
    return storeStatus(this.#parts, this.#query, checkCallOptions(options))
  }

  /** A snapshot of the store's counters and histograms since start (the same the OpenTelemetry meter reports). */
  metrics(): MetricsSnapshot {
    return storeMetrics(this.#parts)
  }

  /**
   * Appends events to a stream, all or none, after checking the stream's version. The events
   * are read when the writer takes the append: don't change them until the promise settles.
   * @throws {WrongExpectedVersionError} code 'wrong_expected_version'
   * @throws {StreamExistsError} code 'stream_exists' (expected 'no_stream')
   * @throws {StreamNotFoundError} code 'stream_not_found' (expected 'stream_exists')
   * @throws {DuplicateEventError} code 'duplicate_event'
   * @throws {InvalidArgumentError} code 'invalid_argument'
   * @example
   * await store.appendToStream('account-7', 'any_version', [{ eventType: 'Deposited', data: { amount: 10 } }])
   */
  async appendToStream(streamId: string, expectedVersion: ExpectedVersion, events: EventData[], opts?: WriteOptions): Promise<void> {
    const stream = checkWritableStreamId(streamId)
    const expected = parseExpectedVersion(expectedVersion)
    checkEventList(events)
    await this.#parts.writes.append(stream, expectedVersion, expected, events, checkCallOptions(opts))
  }

  /**
   * Adds existing events to another stream, by reference.
   * @throws {DuplicateEventError} code 'duplicate_event' when an event is already in the stream
   * @example
   * const [event] = await store.readStreamForward('order-1')
   * await store.linkToStream('big-orders', 'any_version', [event])
   */
  async linkToStream(streamId: string, expectedVersion: ExpectedVersion, eventsOrEventIds: (RecordedEvent | string)[], opts?: WriteOptions): Promise<void> {
    const stream = checkWritableStreamId(streamId)
    const expected = parseExpectedVersion(expectedVersion)
    const eventIds = checkLinkedEventIds(eventsOrEventIds)
    await this.#parts.writes.link(stream, expectedVersion, expected, eventIds, checkCallOptions(opts))
  }

  /** Reads up to `count` events of a stream from version `startVersion` on (0 and 1: from the first). */
  async readStreamForward(streamId: string, startVersion = 0, count = 1000, options?: CallOptions): Promise<RecordedEvent[]> {
    return this.#parts.reads.readStream(streamId, startVersion, count, 'forward', options)
  }

  /** Reads up to `count` events of a stream from `startVersion` down (-1: from the last). */
  async readStreamBackward(streamId: string, startVersion = -1, count = 1000, options?: CallOptions): Promise<RecordedEvent[]> {
    return this.#parts.reads.readStream(streamId, startVersion, count, 'backward', options)
  }

  /** Reads up to `count` events of `$all` from global position `startPosition` on. */
  async readAllStreamsForward(startPosition = 0, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.#parts.reads.readAll(startPosition, count, 'forward', options)
  }

  /** Reads up to `count` events of `$all` from `startPosition` down (-1: from the last). */
  async readAllStreamsBackward(startPosition = -1, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.#parts.reads.readAll(startPosition, count, 'backward', options)
  }

  /** Iterates a stream lazily, one page in memory at a time. */
  streamForward(streamId: string, startVersion = 0, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#parts.reads.iterateStream(streamId, startVersion, 'forward', options)
  }

  streamBackward(streamId: string, startVersion = -1, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#parts.reads.iterateStream(streamId, startVersion, 'backward', options)
  }

  streamAllForward(startPosition = 0, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#parts.reads.iterateAll(startPosition, 'forward', options)
  }

  streamAllBackward(startPosition = -1, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#parts.reads.iterateAll(startPosition, 'backward', options)
  }

  /** The stream's version and status; `$all`'s version is the last global position. */
  async streamInfo(streamId: string, options?: CallOptions): Promise<StreamInfo> {
    return streamInfo(this.#parts.readers, checkStreamId(streamId), checkCallOptions(options))
  }

  /** Lists streams page by page, with their version and status; `$all` and hard-deleted streams are not listed. */
  async paginateStreams(options: PaginateOptions = {}): Promise<StreamPage> {
    return paginateStreams(this.#parts.readers, options)
  }

  /**
   * A transactional projection: `handler(events, tx)` gets a batch of events of $all and the
   * transaction that also moves the projection's checkpoint, so its writes and the checkpoint
   * commit together: each event's effect is applied exactly once, across crashes, restarts
   * and takeovers. A batch that throws rolls back, is tried again with backoff, and after
   * `retry.attempts` the projection stops with the error.
   * @example
   * await store.project('order-totals', async (events, tx) => {
   *   for (const e of events) await tx`INSERT INTO order_totals VALUES (${e.streamId}, ${(e.data as { total: number }).total})`
   * }, { filter: { eventTypes: ['OrderPlaced'] } })
   */
  async project(name: string, handler: ProjectionHandler | URL | string, options?: ProjectOptions): Promise<ProjectionHandle> {
    return this.#parts.projections.project(name, handler, options)
  }

  /**
   * Replays a projection from the first event: `reset(tx)` clears its read model in the same
   * transaction that sends its checkpoint back, after a batch in flight has committed. The
   * projection, wherever it runs, then rebuilds. To keep showing the old read model until the
   * new one has caught up, project under a new name into new tables and swap them instead
   * (see the README). `signal` / `timeout` cancel the wait for a batch in flight; aborted
   * before the reset commits, nothing changes.
   * @throws {SubscriptionNotFoundError} code 'subscription_not_found' when there is no such projection
   */
  async rebuildProjection(name: string, options: RebuildOptions = {}): Promise<void> {
    await this.#parts.projections.rebuild(this.#query, name, options)
  }

  // Each subscribing method has two overloads, the mapper's first: TypeScript picks it only
  // when `mapper` is given, and infers T from the mapper's return type.

  /** With a `mapper`, the subscriber is delivered what it returns. */
  subscribeToAllStreams<T>(name: string, subscriber: Subscriber<T>, options: SubscriptionOptions<T> & { mapper: (event: RecordedEvent) => T }): Promise<Subscription<T>>
  /**
   * Subscribes to every stream: a persistent, named subscription that delivers each event at
   * least once, in $all order, and resumes after its stored checkpoint.
   * @throws {SubscriptionAlreadyExistsError} code 'subscription_already_exists' when concurrencyLimit is reached
   * @example
   * await store.subscribeToAllStreams('projector', async (message) => {
   *   if (message.type === 'events') { await project(message.events); message.subscription.ack(message.events) }
   * })
   */
  subscribeToAllStreams(name: string, subscriber: Subscriber, options?: SubscriptionOptions): Promise<Subscription>
  /** With an actor module (its URL or path), run in the worker pool: it acks through the subscription its function receives. */
  subscribeToAllStreams(name: string, subscriber: URL | string, options?: ModuleSubscriptionOptions): Promise<ModuleSubscriptionHandle>
  async subscribeToAllStreams(name: string, subscriber: SubscriberOrModule | Subscriber, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    return this.#subscribe(ALL_STREAM, name, subscriber as SubscriberOrModule, options)
  }

  /** With a `mapper`, the subscriber is delivered what it returns. */
  subscribeToStream<T>(streamId: string, name: string, subscriber: Subscriber<T>, options: SubscriptionOptions<T> & { mapper: (event: RecordedEvent) => T }): Promise<Subscription<T>>
  /** Subscribes to one stream; a stream that does not exist yet is waited for. */
  subscribeToStream(streamId: string, name: string, subscriber: Subscriber, options?: SubscriptionOptions): Promise<Subscription>
  /** With an actor module (its URL or path), run in the worker pool: it acks through the subscription its function receives. */
  subscribeToStream(streamId: string, name: string, subscriber: URL | string, options?: ModuleSubscriptionOptions): Promise<ModuleSubscriptionHandle>
  async subscribeToStream(streamId: string, name: string, subscriber: SubscriberOrModule | Subscriber, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    return this.#subscribe(checkSubscribedStream(streamId, options), name, subscriber as SubscriberOrModule, options)
  }

  #subscribe(streamId: string, name: string, subscriber: SubscriberOrModule, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    return subscribePersistent(this.#parts.subscriptions, streamId, name, subscriber, options, Array.isArray(this.config.upcasters), this.#relay.report)
  }

  /** Stops the subscription in this store; its checkpoint is kept. `signal` / `timeout` stop the waiting for it (it still stops). */
  async unsubscribeFromAllStreams(name: string, options?: CallOptions): Promise<void> {
    const subscription = checkText(name, 'subscription name')
    await cancellable(checkCallOptions(options), 'unsubscribing', () => this.#parts.subscriptions.unsubscribe(ALL_STREAM, subscription))
  }

  async unsubscribeFromStream(streamId: string, name: string, options?: CallOptions): Promise<void> {
    const [stream, subscription] = [checkWritableStreamId(streamId), checkText(name, 'subscription name')]
    await cancellable(checkCallOptions(options), 'unsubscribing', () => this.#parts.subscriptions.unsubscribe(stream, subscription))
  }

  /**
   * Stops the subscription if it runs here and forgets its checkpoint. `signal` / `timeout`
   * stop the waiting for it (the deletion goes on).
   * @throws {SubscriptionNotFoundError} code 'subscription_not_found'
   */
  async deleteSubscription(streamId: string, name: string, options?: CallOptions): Promise<void> {
    const [stream, subscription] = [checkStreamId(streamId), checkText(name, 'subscription name')]
    await cancellable(checkCallOptions(options), 'deleting the subscription', () => this.#parts.subscriptions.delete(stream, subscription))
  }

  /** With a `mapper`, the handler gets what it returns. */
  subscribe<T>(streamId: string, handler: (event: T) => void | Promise<void>, options: TransientSubscriptionOptions<T> & { mapper: (event: RecordedEvent) => T }): Promise<() => Promise<void>>
  /** A transient subscription: new events only, no acknowledgements, no checkpoint. Resolves to a function that stops it. */
  subscribe(streamId: string, handler: (event: RecordedEvent) => void | Promise<void>, options?: TransientSubscriptionOptions): Promise<() => Promise<void>>
  async subscribe<T>(streamId: string, handler: (event: T) => void | Promise<void>, options: TransientSubscriptionOptions<T> = {}): Promise<() => Promise<void>> {
    return subscribeTransient(this.#parts.subscriptions, checkStreamId(streamId), handler, options, this.#relay.report)
  }

  /**
   * Deletes a stream. Soft (default): it can no longer be read or appended to, its events stay
   * in $all and in streams linking them. Hard (with `enableHardDeletes`): the stream, its
   * events and every link to them are removed; $all keeps a gap; the id can be used again.
   * @throws {StreamNotFoundError} code 'stream_not_found'
   * @throws {WrongExpectedVersionError} code 'wrong_expected_version'
   * @example
   * await store.deleteStream('order-1', 3)            // soft
   * await store.deleteStream('gdpr-user-7', 'any_version', 'hard')
   */
  async deleteStream(streamId: string, expectedVersion: ExpectedVersion, mode: 'soft' | 'hard' = 'soft', opts?: WriteOptions): Promise<void> {
    const stream = checkWritableStreamId(streamId)
    const expected = parseExpectedVersion(expectedVersion)
    checkDeleteMode(mode, this.config.enableHardDeletes, stream)
    await this.#parts.writes.delete(stream, expectedVersion, expected, mode, checkCallOptions(opts))
  }

  /** Stores a snapshot of a source, replacing any older one. */
  async recordSnapshot(snapshot: SnapshotData, options?: CallOptions): Promise<void> {
    await this.#parts.snapshots.record(snapshot, checkCallOptions(options))
  }

  /**
   * The snapshot of a source.
   * @throws {SnapshotNotFoundError} code 'snapshot_not_found'
   */
  async readSnapshot(sourceUuid: string, options?: CallOptions): Promise<RecordedSnapshot> {
    return this.#parts.snapshots.read(sourceUuid, checkCallOptions(options))
  }

  /** Removes the snapshot of a source; nothing happens when there is none. */
  async deleteSnapshot(sourceUuid: string, options?: CallOptions): Promise<void> {
    await this.#parts.snapshots.delete(sourceUuid, checkCallOptions(options))
  }
}
