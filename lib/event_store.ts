// EventStore: the public face. Each method checks its input, then routes the work to an
// actor: writes to the writer on this thread, reads to the reader workers.
import { EventEmitter } from 'node:events'
import { BroadcastChannel } from 'node:worker_threads'
import { checkRoleName, type EventStoreConfig, redactUrl, type ResolvedConfig } from './config.js'
import { makeReport, publish, type Report, reportChannelName, type StoreReport } from './reports.js'
import type { EmbeddedServer } from './embedded/server.js'
import { describe, parseExpectedVersion } from './expected_version.js'
import {
  AbortedError,
  ConnectionError,
  InvalidArgumentError,
  SnapshotNotFoundError,
  StreamNotFoundError,
  SubscriptionNotFoundError,
} from './errors.js'
import type { Codec } from './serializer.js'
import type { Piscina } from 'piscina'
import type { WorkerContextData } from './actors/pool.js'
import { openStore, withDatabase } from './startup.js'
import { Reads } from './readers/reads.js'
import { ReaderPool } from './readers/reader_pool.js'
import type { Subscription } from './subscriptions/handle.js'
import { resolveOptions, type SubscriptionOptions, type TransientSubscriptionOptions } from './subscriptions/options.js'
import { type SubscriberOrModule, Subscriptions, TRANSIENT_PREFIX } from './subscriptions/subscribe.js'
import { stopOnAbort } from './subscriptions/stop_on_abort.js'
import { subscribeTransient } from './subscriptions/transient.js'
import type { Subscriber } from './subscriptions/subscriber.js'
import { closeDatabase, openDatabase, type Sql } from './storage/database.js'
import { toStreamInfo } from './storage/read.js'
import * as snapshots from './storage/snapshots.js'
import { recordedSnapshot, snapshotRow } from './snapshot_codec.js'
import * as schemaLife from './storage/schema.js'
import { driverIsGuarded, warnUnguardedDriver } from './storage/driver_guard.js'
import { toEventStoreError } from './storage/pg_errors.js'
import {
  ALL_STREAM,
  type EventData,
  type CallOptions,
  type ExpectedVersion,
  type PaginateOptions,
  type RecordedEvent,
  type RecordedSnapshot,
  type SnapshotData,
  type StreamInfo,
  type StreamPage,
  type WriteOptions,
} from './types.js'
import {
  checkCallOptions,
  checkCount,
  checkPlainObject,
  checkPosition,
  checkStreamId,
  checkText,
  checkUuid,
  checkWritableStreamId,
} from './validation.js'
import { checkEventList, prepareEvents } from './writer/prepare_events.js'
import { Writer } from './writer/writer.js'
import { cancellable, cutShort } from './actors/cancellable.js'
import { untilAborted } from './actors/timeout.js'
import { type ProjectionHandle, type ProjectionHandler, type ProjectOptions, resetProjection, resolveProjectOptions } from './projections/projection.js'
import { Projections } from './projections/registry.js'
import type postgres from 'postgres'
import { newOrigin } from './notifications/notification.js'
import { checkFilter, type EventFilter } from './filter.js'
import { channels, traced } from './observability/channels.js'
import { type MetricsSnapshot, type RecentReport, StoreMetrics } from './observability/metrics.js'
import { attachOpenTelemetry, loadOpenTelemetry } from './observability/otel.js'
import { type SubscriptionStatus, subscriptionStatus } from './observability/status.js'

export interface StoreStatus {
  writer: { queued: number; batches: number; lastCommitAt: Date | null }
  /** The store's worker pool: reader and subscription actors. */
  workers: { threads: number; utilization: number; queuedTasks: number }
  subscriptions: SubscriptionStatus[]
  /** The store's latest warnings and errors (at most 20, oldest first), as its listeners heard them. */
  recentReports: RecentReport[]
}

/** How long status() waits for a subscription actor to describe itself. */
const STATUS_ANSWER_MS = 1000

export interface StreamReadOptions {
  /** Events fetched per page; default 1000. */
  readBatchSize?: number
  /** Ends the iteration (cleanly: the loop finishes) and cancels the page being read. */
  signal?: AbortSignal
  /** Milliseconds one page may take: beyond, the iteration rejects with TimeoutError. */
  timeout?: number
}

export interface ReadAllOptions extends CallOptions {
  /** Only events of these types, or of streams with this prefix, evaluated by PostgreSQL. */
  filter?: EventFilter
}

export type StreamAllOptions = StreamReadOptions & ReadAllOptions

/** How long stop() lets subscriptions store their last checkpoints. */
const STOP_SUBSCRIPTIONS_MS = 5000

export class EventStore extends EventEmitter<{ warning: [StoreReport]; error: [StoreReport] }> {
  /** The settings in force; `url` is the one connected to (also the embedded server's), its password shown as ***. */
  readonly config: ResolvedConfig
  readonly #sql: Sql
  readonly #writer: Writer
  readonly #pool: Piscina
  readonly #readers: ReaderPool
  readonly #reads: Reads
  readonly #subscriptions: Subscriptions
  readonly #embedded: EmbeddedServer | null
  readonly #codec: Codec
  /** Where this store's worker threads post their reports (lib/reports.ts). */
  readonly #workerReports: BroadcastChannel
  readonly #metrics = new StoreMetrics()
  /** Stops the OpenTelemetry bridge, when it runs. */
  #detachTelemetry: (() => void) | null = null
  #stopping: Promise<void> | null = null
  /** Reports on the store's warning/error channel (#relay). */
  readonly #reportFn: Report = (level, source, text, error, details) => this.#relay(makeReport(level, source, text, error, details))
  /** Projections running in this store, stopped at stop(). */
  readonly #projections: Projections

  private constructor(config: ResolvedConfig, sql: Sql, context: WorkerContextData, pool: Piscina, embedded: EmbeddedServer | null, codec: Codec) {
    super()
    const { url, storeId } = context
    this.#codec = codec
    this.config = { ...config, url: redactUrl(url) }
    this.#sql = sql
    this.#workerReports = new BroadcastChannel(reportChannelName(storeId))
    this.#workerReports.unref()
    this.#workerReports.onmessage = (message) => this.#relay((message as { data: StoreReport }).data)
    const report: Report = (level, source, text, error, details) => this.#relay(makeReport(level, source, text, error, details))
    if (!driverIsGuarded()) {
      // Told once listeners had a chance to attach (the store is returned first); on stderr
      // when nobody listens, since a process that can crash should not learn it by crashing.
      setImmediate(() => warnUnguardedDriver(this.listenerCount('warning') > 0 || config.logger !== null, report))
    }
    this.#pool = pool
    this.#readers = new ReaderPool(pool, config.workers)
    this.#reads = new Reads(this.#readers, codec, this.#metrics, config.schema, config.maxReadCount)
    const origin = newOrigin()
    this.#subscriptions = new Subscriptions(pool, sql, config.schema, codec, origin, context, report, this.#metrics)
    this.#embedded = embedded
    this.#projections = new Projections({ sql, url, schema: config.schema, codec, connection: config.connection, upcasters: config.upcasters, context, report })
    this.#writer = new Writer(sql, config.schema, {
      openConnection: () =>
        openDatabase({ url, schema: config.schema, max: 1, customPlans: true, role: 'pg-eventstore writer', connection: config.connection }),
      maxQueued: config.maxQueuedWrites,
      outcomeTimeout: config.outcomeTimeout,
      report,
      origin,
      onCommitted: (committed) => this.#subscriptions.handOff(committed),
      onOutcomeUnknown: () => this.#subscriptions.wakeAll(),
      metrics: this.#metrics,
    })
  }

  /**
   * Tells every listener, the logger and the diagnostics channel. An 'error' nobody listens
   * to is not emitted: EventEmitter would throw it, and the store must not take its host down.
   */
  #relay(report: StoreReport): void {
    this.#metrics.reported(report)
    const logger = this.config.logger
    for (const tell of [
      () => this.listenerCount(report.level) > 0 && this.emit(report.level, report),
      () => (report.level === 'error' ? logger?.error(report, report.message) : logger?.warn(report, report.message)),
      () => publish(report),
    ]) {
      try {
        tell()
      } catch {
        // A listener, logger or channel subscriber that throws must not turn a survived
        // fault into a crash, nor break the part of the store that reported it.
      }
    }
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
    const { resolved, sql, context, pool, embedded, codec } = await openStore(config)
    const store = new EventStore(resolved, sql, context, pool, embedded, codec)
    const openTelemetry = resolved.openTelemetry ? await loadOpenTelemetry() : null
    if (openTelemetry) {
      store.#detachTelemetry = attachOpenTelemetry(openTelemetry, {
        schema: resolved.schema,
        metrics: store.#metrics,
        queued: () => store.#writer.queued,
        workerUtilization: () => store.#pool.utilization,
        subscriptions: async () => (await store.status()).subscriptions,
      })
    }
    return store
  }

  /** Creates the store's tables in its schema (`pg-eventstore init`). */
  static async init(config: EventStoreConfig = {}): Promise<void> {
    await withDatabase(config, (sql, resolved) => schemaLife.init(sql, resolved.schema, resolved.columnDataType ?? 'jsonb').then(() => undefined))
  }

  /** Applies pending migrations (`pg-eventstore migrate`); returns the versions applied. */
  static async migrate(config: EventStoreConfig = {}): Promise<number[]> {
    return withDatabase(config, async (sql, resolved) => (await schemaLife.migrate(sql, resolved.schema)).map((m) => m.version))
  }

  /**
   * Lets an existing role run the store with no more rights than it needs: read, append,
   * keep checkpoints and snapshots; it owns nothing, so it cannot alter or drop the tables
   * (`pg-eventstore grant --role NAME`). Run it as the owner, after init or migrate.
   */
  static async grant(config: EventStoreConfig, role: string, options: { hardDeletes?: boolean } = {}): Promise<void> {
    const name = checkRoleName(role)
    await withDatabase(config, (sql, resolved) => schemaLife.grantAppRole(sql, resolved.schema, name, options.hardDeletes === true))
  }

  /** Removes the store's tables from its schema (`pg-eventstore drop`). */
  static async drop(config: EventStoreConfig = {}): Promise<void> {
    await withDatabase(config, (sql, resolved) => schemaLife.drop(sql, resolved.schema))
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
    this.#stopping ??= this.#stop()
    void this.#stopping.finally(release)
    return this.#stopping
  }

  readonly #stopNow = new AbortController()

  async #stop(): Promise<void> {
    const cut = this.#stopNow.signal
    const cutError = () => new Error('stop() was cut short by its signal or timeout')
    this.#detachTelemetry?.()
    const projections = this.#projections.running
    await untilAborted(Promise.all(projections.map((projection) => projection.stop())), cut, cutError).catch(() => {
      for (const projection of projections) projection.halt()
    })
    await this.#subscriptions.stopAll(STOP_SUBSCRIPTIONS_MS, cut)
    await untilAborted(this.#writer.stop(), cut, cutError).catch(() => this.#writer.abandon())
    await this.#readers.close(cut)
    await this.#pool.close({ force: true })
    if (cut.aborted) this.#reportFn('warning', 'store', 'stop() was cut short by its signal or timeout: what still ran was ended without waiting')
    await closeDatabase(this.#sql, cut.aborted ? 0 : undefined)
    this.#workerReports.close()
    await this.#embedded?.release()
  }

  /**
   * What the store is doing: the writer, the worker pool, and every subscription of the
   * schema (those of other processes too, read from the database).
   * @example
   * for (const s of (await store.status()).subscriptions) console.log(s.name, s.state, s.lag.events)
   */
  async status(options?: CallOptions): Promise<StoreStatus> {
    const call = checkCallOptions(options)
    const local = await this.#subscriptions.localStatus(STATUS_ANSWER_MS)
    const subscriptions = await this.#query(call, 'reading the status', () => subscriptionStatus(this.#sql, this.config.schema, local))
    return {
      writer: { queued: this.#writer.queued, batches: this.#writer.stats.batches, lastCommitAt: this.#metrics.lastCommitAt },
      workers: { threads: this.#pool.threads.length, utilization: this.#pool.utilization, queuedTasks: this.#pool.queueSize },
      subscriptions,
      recentReports: [...this.#metrics.recentReports],
    }
  }

  /** A snapshot of the store's counters and histograms since start (the same the OpenTelemetry meter reports). */
  metrics(): MetricsSnapshot {
    const m = this.#metrics
    return {
      at: Date.now(),
      counters: { ...m.counters },
      writer: { queued: this.#writer.queued, batches: this.#writer.stats.batches, lastCommitAt: m.lastCommitAt },
      batchSize: m.batchSize.snapshot(),
      commitLatency: m.commitLatency.snapshot(),
      readLatency: m.readLatency.snapshot(),
      workerUtilization: this.#pool.utilization,
    }
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
    const codec = this.#codec
    const options = checkWriteOptions(opts)
    const message = () => ({ schema: this.config.schema, streamId: stream, expectedVersion, eventCount: events.length })
    const post = (traceparent: string | undefined) => {
      // The events are checked and serialised when the writer takes them (lib/writer/writer.ts).
      const prepare = () => ({ type: 'append' as const, streamId: stream, expected, events: prepareEvents(events, codec, traceparent) })
      return this.#writer.post({ type: 'pending append', expected, eventCount: events.length, prepare }, options)
    }
    try {
      await traced(channels.append, message, (traced) => post(this.config.recordTraceContext ? traced?.traceparent : undefined))
    } catch (error) {
      this.#metrics.counters.writeErrors += 1
      throw error
    }
    this.#metrics.counters.appends += 1
    this.#metrics.counters.eventsAppended += events.length
  }

  /**
   * Adds existing events to another stream, by reference.
   * @throws {DuplicateEventError} code 'duplicate_event' when an event is already in the stream
   * @example
   * const [event] = await store.readStreamForward('order-1')
   * await store.linkToStream('big-orders', 'any_version', [event])
   */
  async linkToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    eventsOrEventIds: (RecordedEvent | string)[],
    opts?: WriteOptions,
  ): Promise<void> {
    const stream = checkWritableStreamId(streamId)
    const expected = parseExpectedVersion(expectedVersion)
    if (!Array.isArray(eventsOrEventIds) || eventsOrEventIds.length === 0) {
      throw new InvalidArgumentError(`events to link must be a non-empty array; got ${describe(eventsOrEventIds)}`)
    }
    // Array.from, not map: map skips the holes of a sparse array.
    const eventIds = Array.from(eventsOrEventIds, (item, i) =>
      checkUuid(typeof item === 'object' && item !== null ? (item as RecordedEvent).eventId : item, `events[${i}] (an event or an event id)`),
    )
    const options = checkWriteOptions(opts)
    const message = () => ({ schema: this.config.schema, streamId: stream, expectedVersion, eventCount: eventIds.length })
    try {
      await traced(channels.link, message, () => this.#writer.post({ type: 'link', streamId: stream, expected, eventIds }, options))
    } catch (error) {
      this.#metrics.counters.writeErrors += 1
      throw error
    }
    this.#metrics.counters.links += 1
  }

  /** Reads up to `count` events of a stream from version `startVersion` on (0 and 1: from the first). */
  async readStreamForward(streamId: string, startVersion = 0, count = 1000, options?: CallOptions): Promise<RecordedEvent[]> {
    return this.#reads.page(checkStreamId(streamId), checkPosition(startVersion, 'start version'), this.#reads.count(count, 'streamForward'), 'forward', null, checkCallOptions(options))
  }

  /** Reads up to `count` events of a stream from `startVersion` down (-1: from the last). */
  async readStreamBackward(streamId: string, startVersion = -1, count = 1000, options?: CallOptions): Promise<RecordedEvent[]> {
    return this.#reads.page(checkStreamId(streamId), checkPosition(startVersion, 'start version', true), this.#reads.count(count, 'streamBackward'), 'backward', null, checkCallOptions(options))
  }

  /** Reads up to `count` events of `$all` from global position `startPosition` on. */
  async readAllStreamsForward(startPosition = 0, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { filter } = checkPlainObject(options, 'options') as ReadAllOptions
    return this.#reads.page(ALL_STREAM, checkPosition(startPosition, 'start position'), this.#reads.count(count, 'streamAllForward'), 'forward', checkFilter(filter, 'options.filter'), checkCallOptions(options))
  }

  /** Reads up to `count` events of `$all` from `startPosition` down (-1: from the last). */
  async readAllStreamsBackward(startPosition = -1, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { filter } = checkPlainObject(options, 'options') as ReadAllOptions
    return this.#reads.page(ALL_STREAM, checkPosition(startPosition, 'start position', true), this.#reads.count(count, 'streamAllBackward'), 'backward', checkFilter(filter, 'options.filter'), checkCallOptions(options))
  }

  /** Iterates a stream lazily, one page in memory at a time. */
  streamForward(streamId: string, startVersion = 0, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#reads.iterate(checkStreamId(streamId), checkPosition(startVersion, 'start version'), options, 'forward')
  }

  streamBackward(streamId: string, startVersion = -1, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#reads.iterate(checkStreamId(streamId), checkPosition(startVersion, 'start version', true), options, 'backward')
  }

  streamAllForward(startPosition = 0, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    const start = checkPosition(startPosition, 'start position')
    const pageSize = this.#reads.pageSize(options?.readBatchSize)
    const filter = checkFilter(options?.filter, 'options.filter')
    // Filtered pages are read one after the other: where the next one starts is known only
    // once the last is back. So are cancellable ones, which then end at a page boundary.
    if (filter || options?.signal !== undefined || options?.timeout !== undefined) return this.#reads.iterate(ALL_STREAM, Math.max(start, 1), options, 'forward', filter)
    return this.#reads.allForward(start, pageSize)
  }

  streamAllBackward(startPosition = -1, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#reads.iterate(ALL_STREAM, checkPosition(startPosition, 'start position', true), options, 'backward', checkFilter(options?.filter, 'options.filter'))
  }

  /** The stream's version and status; `$all`'s version is the last global position. */
  async streamInfo(streamId: string, options?: CallOptions): Promise<StreamInfo> {
    const stream = checkStreamId(streamId)
    const result = await this.#readers.run({ op: 'stream_info', streamId: stream }, checkCallOptions(options))
    const info = result.status === 'info' ? result.info : null
    if (!info) throw new StreamNotFoundError(`stream "${stream}" does not exist`, { streamId: stream })
    return toStreamInfo(info)
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
    const projectionName = checkText(name, 'projection name')
    if (typeof handler !== 'function' && typeof handler !== 'string' && !(handler instanceof URL)) {
      throw new InvalidArgumentError(`handler must be a function (events, tx) or the URL or path of an actor module exporting one; got ${describe(handler)}`)
    }
    const resolved = resolveProjectOptions(options)
    if (this.#stopping) throw new ConnectionError('the event store has been stopped')
    return this.#projections.start(projectionName, handler, resolved)
  }

  /**
   * Replays a projection from the first event: `reset(tx)` clears its read model in the same
   * transaction that sends its checkpoint back, after a batch in flight has committed. The
   * projection, wherever it runs, then rebuilds. To keep showing the old read model until the
   * new one has caught up, project under a new name into new tables and swap them instead
   * (see the README).
   * `signal` / `timeout` cancel the wait for a batch in flight; aborted before the reset
   * commits, nothing changes.
   * @throws {SubscriptionNotFoundError} code 'subscription_not_found' when there is no such projection
   */
  async rebuildProjection(name: string, options: { reset?: (tx: postgres.TransactionSql) => unknown } & CallOptions = {}): Promise<void> {
    const projectionName = checkText(name, 'projection name')
    const { reset, signal, timeout } = checkPlainObject(options, 'options') as { reset?: unknown } & CallOptions
    if (reset !== undefined && typeof reset !== 'function') throw new InvalidArgumentError(`options.reset must be a function (tx); got ${describe(reset)}`)
    const call = checkCallOptions({ signal, timeout })
    const found = await this.#query(call, 'rebuilding the projection', (cancel) =>
      resetProjection(this.#sql, projectionName, reset as ((tx: postgres.TransactionSql) => unknown) | undefined, cancel),
    )
    if (!found) throw new SubscriptionNotFoundError(`no projection "${projectionName}"`, { name: projectionName })
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
  subscribeToAllStreams(name: string, subscriber: Subscriber | URL | string, options?: SubscriptionOptions): Promise<Subscription>
  async subscribeToAllStreams(name: string, subscriber: SubscriberOrModule, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    return this.#subscribe(ALL_STREAM, name, subscriber, options)
  }

  /** With a `mapper`, the subscriber is delivered what it returns. */
  subscribeToStream<T>(streamId: string, name: string, subscriber: Subscriber<T>, options: SubscriptionOptions<T> & { mapper: (event: RecordedEvent) => T }): Promise<Subscription<T>>
  /** Subscribes to one stream; a stream that does not exist yet is waited for. */
  subscribeToStream(streamId: string, name: string, subscriber: Subscriber | URL | string, options?: SubscriptionOptions): Promise<Subscription>
  async subscribeToStream(streamId: string, name: string, subscriber: SubscriberOrModule, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    if (streamId === ALL_STREAM) throw new InvalidArgumentError('to subscribe to $all, use subscribeToAllStreams')
    if (options?.filter !== undefined) throw new InvalidArgumentError('filters apply to $all: use subscribeToAllStreams with filter (for example streamPrefix)')
    return this.#subscribe(checkWritableStreamId(streamId), name, subscriber, options)
  }

  /**
   * Stops the subscription in this store; its checkpoint is kept. `signal` / `timeout` stop
   * the waiting for it (the subscription still stops).
   */
  async unsubscribeFromAllStreams(name: string, options?: CallOptions): Promise<void> {
    const subscription = checkText(name, 'subscription name')
    await cancellable(checkCallOptions(options), 'unsubscribing', () => this.#subscriptions.unsubscribe(ALL_STREAM, subscription))
  }

  async unsubscribeFromStream(streamId: string, name: string, options?: CallOptions): Promise<void> {
    const [stream, subscription] = [checkWritableStreamId(streamId), checkText(name, 'subscription name')]
    await cancellable(checkCallOptions(options), 'unsubscribing', () => this.#subscriptions.unsubscribe(stream, subscription))
  }

  /**
   * Stops the subscription if it runs here and forgets its checkpoint. `signal` / `timeout`
   * stop the waiting for it (the deletion goes on).
   * @throws {SubscriptionNotFoundError} code 'subscription_not_found'
   */
  async deleteSubscription(streamId: string, name: string, options?: CallOptions): Promise<void> {
    const [stream, subscription] = [checkStreamId(streamId), checkText(name, 'subscription name')]
    await cancellable(checkCallOptions(options), 'deleting the subscription', () => this.#subscriptions.delete(stream, subscription))
  }

  /** With a `mapper`, the handler gets what it returns. */
  subscribe<T>(streamId: string, handler: (event: T) => void | Promise<void>, options: TransientSubscriptionOptions<T> & { mapper: (event: RecordedEvent) => T }): Promise<() => Promise<void>>
  /**
   * A transient subscription: new events only, no acknowledgements, no checkpoint.
   * Resolves to a function that stops it.
   */
  subscribe(streamId: string, handler: (event: RecordedEvent) => void | Promise<void>, options?: TransientSubscriptionOptions): Promise<() => Promise<void>>
  async subscribe<T>(streamId: string, handler: (event: T) => void | Promise<void>, options: TransientSubscriptionOptions<T> = {}): Promise<() => Promise<void>> {
    const stream = checkStreamId(streamId)
    if (typeof handler !== 'function') throw new InvalidArgumentError(`handler must be a function; got ${describe(handler)}`)
    const { selector, mapper, filter, signal, timeout } = checkPlainObject(options, 'options') as TransientSubscriptionOptions<T>
    if (filter !== undefined && stream !== ALL_STREAM) throw new InvalidArgumentError('filters apply to $all: subscribe to $all with filter (for example streamPrefix)')
    // `signal` stops it whenever it aborts; `timeout` bounds the wait until it is live.
    const call = checkCallOptions({ signal, timeout })
    if (signal?.aborted) throw new AbortedError('the subscription was aborted before it started', { reason: String(signal.reason) })
    return subscribeTransient(this.#subscriptions, stream, handler, { selector, mapper, filter }, call, this.#reportFn)
  }

  async #subscribe(streamId: string, name: string, subscriber: SubscriberOrModule, options?: SubscriptionOptions<unknown>): Promise<Subscription<unknown>> {
    const subscriptionName = checkText(name, 'subscription name')
    if (subscriptionName.startsWith(TRANSIENT_PREFIX)) throw new InvalidArgumentError(`subscription names starting with ${TRANSIENT_PREFIX} are reserved`)
    if (typeof subscriber !== 'function' && typeof subscriber !== 'string' && !(subscriber instanceof URL)) {
      throw new InvalidArgumentError(`subscriber must be a function or the URL or path of an actor module; got ${describe(subscriber)}`)
    }
    const resolved = resolveOptions(options)
    if (typeof subscriber !== 'function' && (resolved.selector || resolved.mapper)) {
      throw new InvalidArgumentError('an actor-module subscriber runs in a worker: export selector and mapper from the module instead of passing them')
    }
    if (typeof subscriber !== 'function' && Array.isArray(this.config.upcasters)) {
      throw new InvalidArgumentError('an actor-module subscriber runs on a thread of its own, which functions cannot reach: give upcasters as the URL or path of a module to use both')
    }
    const { signal } = resolved
    if (signal?.aborted) throw new AbortedError('the subscription was aborted before it started', { reason: String(signal.reason) })
    const subscription = await this.#subscriptions.subscribe(streamId, subscriptionName, subscriber, resolved)
    if (signal) stopOnAbort(signal, subscription, this.#reportFn)
    return subscription
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
    if (mode !== 'soft' && mode !== 'hard') throw new InvalidArgumentError(`delete mode must be 'soft' or 'hard'; got ${describe(mode)}`)
    if (mode === 'hard' && !this.config.enableHardDeletes) {
      throw new InvalidArgumentError('hard deletes are disabled; start the store with enableHardDeletes: true', { streamId: stream })
    }
    const options = checkWriteOptions(opts)
    const message = () => ({ schema: this.config.schema, streamId: stream, expectedVersion, mode })
    try {
      await traced(channels.delete, message, () => this.#writer.post({ type: 'delete', streamId: stream, expected, mode }, options))
    } catch (error) {
      this.#metrics.counters.writeErrors += 1
      throw error
    }
    this.#metrics.counters.deletes += 1
  }

  /**
   * Lists streams page by page, with their version and status; `$all` and hard-deleted
   * streams are not listed.
   */
  async paginateStreams(options: PaginateOptions = {}): Promise<StreamPage> {
    const o = checkPlainObject(options, 'options') as PaginateOptions
    const page = checkCount(o.page ?? 1, 'page')
    const pageSize = checkCount(o.pageSize ?? 50, 'pageSize')
    const sortBy = o.sortBy ?? 'createdAt'
    if (!['streamId', 'streamVersion', 'createdAt', 'deletedAt'].includes(sortBy)) {
      throw new InvalidArgumentError(`sortBy must be streamId, streamVersion, createdAt or deletedAt; got ${describe(sortBy)}`)
    }
    const sortDir = o.sortDir ?? 'asc'
    if (sortDir !== 'asc' && sortDir !== 'desc') throw new InvalidArgumentError(`sortDir must be 'asc' or 'desc'; got ${describe(sortDir)}`)
    const search = o.search === undefined || o.search === '' ? '' : checkText(o.search, 'search')
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const result = await this.#readers.run({ op: 'paginate', pageSize, offset: (page - 1) * pageSize, sortBy, sortDir, pattern }, checkCallOptions({ signal: o.signal, timeout: o.timeout }))
    const rows = result.status === 'page' ? result.rows : []
    const totalEntries = rows[0]?.total ?? 0
    return { entries: rows.filter((row) => row.stream_uuid !== null).map(toStreamInfo), pageNumber: page, pageSize, totalEntries, totalPages: Math.ceil(totalEntries / pageSize) }
  }

  /** Stores a snapshot of a source, replacing any older one. */
  async recordSnapshot(snapshot: SnapshotData, options?: CallOptions): Promise<void> {
    const call = checkCallOptions(options)
    const row = snapshotRow(snapshot, this.#codec)
    // Aborted once sent, the snapshot may or may not be stored: recording it again is harmless.
    await this.#query(call, 'recording the snapshot', (signal) => snapshots.recordSnapshot(this.#sql, row, signal))
  }

  /**
   * The snapshot of a source.
   * @throws {SnapshotNotFoundError} code 'snapshot_not_found'
   */
  async readSnapshot(sourceUuid: string, options?: CallOptions): Promise<RecordedSnapshot> {
    const source = checkText(sourceUuid, 'sourceUuid')
    const row = await this.#query(checkCallOptions(options), 'reading the snapshot', (signal) => snapshots.readSnapshot(this.#sql, source, signal))
    if (!row) throw new SnapshotNotFoundError(`no snapshot of "${source}"`, { sourceUuid: source })
    return recordedSnapshot(row, this.#codec)
  }

  /** Removes the snapshot of a source; nothing happens when there is none. */
  async deleteSnapshot(sourceUuid: string, options?: CallOptions): Promise<void> {
    const source = checkText(sourceUuid, 'sourceUuid')
    await this.#query(checkCallOptions(options), 'deleting the snapshot', (signal) => snapshots.deleteSnapshot(this.#sql, source, signal))
  }

  /** A query on the main thread's pool, under the caller's { signal, timeout }. */
  async #query<T>(call: CallOptions, what: string, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    if (this.#stopping) throw new ConnectionError('the event store has been stopped')
    try {
      return await cancellable(call, what, work)
    } catch (error) {
      throw toEventStoreError(error, this.config.schema)
    }
  }
}

const checkWriteOptions: (opts: WriteOptions | undefined) => WriteOptions = checkCallOptions

