// EventStore: the public face. Each method checks its input, then routes the work to an
// actor: writes to the writer on this thread, reads to the reader workers.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { BroadcastChannel } from 'node:worker_threads'
import { checkRoleName, type EventStoreConfig, redactUrl, type ResolvedConfig, resolveConfig } from './config.js'
import { makeReport, publish, type Report, reportChannelName, type StoreReport } from './reports.js'
import { acquireEmbeddedServer, type EmbeddedServer } from './embedded/server.js'
import { describe, parseExpectedVersion } from './expected_version.js'
import {
  AbortedError,
  ConnectionError,
  EventStoreError,
  InvalidArgumentError,
  SnapshotNotFoundError,
  StreamDeletedError,
  StreamNotFoundError,
  SubscriptionAlreadyExistsError,
  SubscriptionNotFoundError,
} from './errors.js'
import { type Codec, decodeEvents, decodeStored, encodeTerm, loadSerializer } from './serializer.js'
import type { Piscina } from 'piscina'
import { startPool, type WorkerContextData } from './actors/pool.js'
import { workerUrl } from './package_files.js'
import { iterateAllForward, type Window } from './readers/all_forward.js'
import { READER_ACTOR } from './readers/messages.js'
import { ReaderPool } from './readers/reader_pool.js'
import { uuidV7 } from './uuid_v7.js'
import type { Subscription } from './subscriptions/handle.js'
import { resolveOptions, type SubscriptionOptions, type TransientSubscriptionOptions } from './subscriptions/options.js'
import { type SubscriberOrModule, Subscriptions, TRANSIENT_PREFIX } from './subscriptions/subscribe.js'
import type { Subscriber } from './subscriptions/subscriber.js'
import { closeDatabase, openDatabase, type Sql } from './storage/database.js'
import { type Direction, type InfoRow, parsePage, type ReadTask } from './storage/read.js'
import * as snapshots from './storage/snapshots.js'
import * as schemaLife from './storage/schema.js'
import { driverIsGuarded, warnUnguardedDriver } from './storage/driver_guard.js'
import { toEventStoreError } from './storage/pg_errors.js'
import { connectFailure } from './storage/connect_errors.js'
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
  checkReadCount,
  checkOptionalUuid,
  checkPlainObject,
  checkPosition,
  checkStreamId,
  checkText,
  checkUuid,
  checkWritableStreamId,
} from './validation.js'
import type { PreparedEvent } from './writer/messages.js'
import { Writer } from './writer/writer.js'
import { cancellable, cutShort } from './actors/cancellable.js'
import { untilAborted } from './actors/timeout.js'
import { Projection, type ProjectionHandle, type ProjectionHandler, type RunningProjection, type ProjectOptions, resetProjection, resolveProjectOptions } from './projections/projection.js'
import { startModuleProjection } from './projections/module_projection.js'
import type postgres from 'postgres'
import { newOrigin } from './notifications/notification.js'
import { loadUpcasters, SCHEMA_VERSION_KEY } from './upcasting.js'
import { checkFilter, type EventFilter, type ResolvedFilter } from './filter.js'
import { channels, traced } from './observability/channels.js'
import { type MetricsSnapshot, type RecentReport, StoreMetrics } from './observability/metrics.js'
import { attachOpenTelemetry, loadOpenTelemetry, TRACEPARENT_KEY } from './observability/otel.js'
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

/** Connections a worker thread opens at least; the pool size is divided among the threads. */
const MIN_CONNECTIONS_PER_WORKER = 2
/** How long stop() lets subscriptions store their last checkpoints. */
const STOP_SUBSCRIPTIONS_MS = 5000
/** Tasks a worker thread runs at once: every actor it hosts is one long-lived task. */
const TASKS_PER_WORKER = 10_000

/** A database connection made from a config: the given url, else an embedded server. */
async function connect(config: ResolvedConfig): Promise<{ url: string; embedded: EmbeddedServer | null }> {
  if (config.url) return { url: config.url, embedded: null }
  const embedded = await acquireEmbeddedServer(config.embedded)
  return { url: embedded.url, embedded }
}

/**
 * Runs `work` with a short-lived connection to the store's database; used by the schema
 * commands (init, migrate, drop, info), which run before or without a started store.
 */
export async function withDatabase<T>(config: EventStoreConfig, work: (sql: Sql, resolved: ResolvedConfig, url: string) => Promise<T>): Promise<T> {
  const resolved = resolveConfig(config)
  const { url, embedded } = await connect(resolved)
  const sql = openDatabase({ url, schema: resolved.schema, max: 1, role: 'pg-eventstore admin' })
  try {
    return await work(sql, resolved, url)
  } catch (error) {
    throw connectFailure(error, url) ?? toEventStoreError(error, resolved.schema)
  } finally {
    await closeDatabase(sql)
    await embedded?.release()
  }
}

export class EventStore extends EventEmitter<{ warning: [StoreReport]; error: [StoreReport] }> {
  /** The settings in force; `url` is the one connected to (also the embedded server's), its password shown as ***. */
  readonly config: ResolvedConfig
  readonly #sql: Sql
  readonly #writer: Writer
  readonly #pool: Piscina
  readonly #readers: ReaderPool
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
  readonly #projections = new Set<RunningProjection>()
  readonly #projectionNames = new Set<string>()
  /** The connection string (with its password): projections open sessions of their own. */
  readonly #url: string
  /** What threads of this store start with (actor-module projections start one). */
  readonly #context: WorkerContextData

  private constructor(config: ResolvedConfig, sql: Sql, context: WorkerContextData, pool: Piscina, embedded: EmbeddedServer | null, codec: Codec) {
    super()
    const { url, storeId } = context
    this.#url = url
    this.#context = context
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
    const origin = newOrigin()
    this.#subscriptions = new Subscriptions(pool, sql, config.schema, codec, origin, context, report, this.#metrics)
    this.#embedded = embedded
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
    const resolved = resolveConfig(config)
    const { url, embedded } = await connect(resolved)
    const sql = openDatabase({ url, schema: resolved.schema, max: resolved.poolSize, customPlans: true, connection: resolved.connection })
    let codec: Codec
    try {
      await schemaLife.checkSchema(sql, resolved.schema)
      const column = await schemaLife.columnDataType(sql, resolved.schema, resolved.columnDataType)
      codec = { column, serializer: await loadSerializer(resolved.serializer ?? undefined), upcasters: await loadUpcasters(resolved.upcasters) }
    } catch (error) {
      await closeDatabase(sql)
      await embedded?.release()
      throw connectFailure(error, url) ?? toEventStoreError(error, resolved.schema)
    }
    const context: WorkerContextData = {
      url,
      schema: resolved.schema,
      connectionsPerWorker: Math.max(MIN_CONNECTIONS_PER_WORKER, Math.ceil(resolved.poolSize / resolved.workers)),
      column: codec.column,
      serializer: resolved.serializer,
      upcasters: typeof resolved.upcasters === 'string' ? resolved.upcasters : null,
      connection: resolved.connection,
      storeId: randomUUID(),
    }
    const pool = startPool({
      filename: workerUrl('reader_worker'),
      threads: resolved.workers,
      workerData: context,
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      onePerThread: READER_ACTOR,
    })
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
    const projections = [...this.#projections]
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
    return this.#readPage(checkStreamId(streamId), checkPosition(startVersion, 'start version'), this.#readCount(count, 'streamForward'), 'forward', null, checkCallOptions(options))
  }

  /** Reads up to `count` events of a stream from `startVersion` down (-1: from the last). */
  async readStreamBackward(streamId: string, startVersion = -1, count = 1000, options?: CallOptions): Promise<RecordedEvent[]> {
    return this.#readPage(checkStreamId(streamId), checkPosition(startVersion, 'start version', true), this.#readCount(count, 'streamBackward'), 'backward', null, checkCallOptions(options))
  }

  /** Reads up to `count` events of `$all` from global position `startPosition` on. */
  async readAllStreamsForward(startPosition = 0, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { filter } = checkPlainObject(options, 'options') as ReadAllOptions
    return this.#readPage(ALL_STREAM, checkPosition(startPosition, 'start position'), this.#readCount(count, 'streamAllForward'), 'forward', checkFilter(filter, 'options.filter'), checkCallOptions(options))
  }

  /** Reads up to `count` events of `$all` from `startPosition` down (-1: from the last). */
  async readAllStreamsBackward(startPosition = -1, count = 1000, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { filter } = checkPlainObject(options, 'options') as ReadAllOptions
    return this.#readPage(ALL_STREAM, checkPosition(startPosition, 'start position', true), this.#readCount(count, 'streamAllBackward'), 'backward', checkFilter(filter, 'options.filter'), checkCallOptions(options))
  }

  /** Iterates a stream lazily, one page in memory at a time. */
  streamForward(streamId: string, startVersion = 0, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#iterate(checkStreamId(streamId), checkPosition(startVersion, 'start version'), options, 'forward')
  }

  streamBackward(streamId: string, startVersion = -1, options: StreamReadOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#iterate(checkStreamId(streamId), checkPosition(startVersion, 'start version', true), options, 'backward')
  }

  streamAllForward(startPosition = 0, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    const start = checkPosition(startPosition, 'start position')
    const pageSize = checkReadCount(options?.readBatchSize ?? 1000, this.config.maxReadCount, 'readBatchSize', 'a smaller page does: the iterator reads as many as it needs')
    const filter = checkFilter(options?.filter, 'options.filter')
    // Filtered pages are read one after the other: where the next one starts is known only
    // once the last is back. So are cancellable ones, which then end at a page boundary.
    if (filter || options?.signal !== undefined || options?.timeout !== undefined) return this.#iterate(ALL_STREAM, Math.max(start, 1), options, 'forward', filter)
    return iterateAllForward((from, to, count) => this.#readWindow(from, to, count), start, pageSize)
  }

  streamAllBackward(startPosition = -1, options: StreamAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#iterate(ALL_STREAM, checkPosition(startPosition, 'start position', true), options, 'backward', checkFilter(options?.filter, 'options.filter'))
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
    // Taken before any await, so that two calls at once cannot both start it.
    if (this.#projectionNames.has(projectionName)) throw new SubscriptionAlreadyExistsError(`projection "${projectionName}" already runs in this store`, { name: projectionName })
    this.#projectionNames.add(projectionName)
    const report = this.#reportFn
    let projection: RunningProjection
    if (typeof handler === 'function') {
      projection = new Projection(projectionName, handler, resolved, {
        sql: this.#sql,
        url: this.#url,
        schema: this.config.schema,
        codec: this.#codec,
        connection: this.config.connection,
        report,
      })
    } else {
      if (Array.isArray(this.config.upcasters)) {
        throw new InvalidArgumentError('an actor-module projection runs on a thread of its own, which functions cannot reach: give upcasters as the URL or path of a module to use both')
      }
      const moduleUrl = handler instanceof URL ? handler.href : new URL(handler, `file://${process.cwd()}/`).href
      try {
        projection = await startModuleProjection(this.#context, projectionName, moduleUrl, resolved, report)
      } catch (error) {
        this.#projectionNames.delete(projectionName)
        throw error
      }
    }
    this.#projections.add(projection)
    void projection.closed.then(() => {
      this.#projections.delete(projection)
      this.#projectionNames.delete(projectionName)
    })
    return projection
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
    const resolved = { ...resolveOptions({ selector, mapper, filter, startFrom: 'current', transient: true, bufferSize: 1000 }) }
    const name = `${TRANSIENT_PREFIX}${randomUUID()}`
    let live: () => void = () => {}
    const subscribed = new Promise<void>((resolve) => {
      live = resolve
    })
    const subscription = await this.#subscriptions.subscribe(
      stream,
      name,
      async (message) => {
        if (message.type === 'subscribed') live()
        // The mapper's values, or the events when there is none: T, as the overloads say.
        else for (const event of message.events) await handler(event as T)
      },
      resolved,
      true,
    )
    if (signal) stopOnAbort(signal, subscription, this.#reportFn)
    // Resolve once it is live, so that every event appended after this call is delivered.
    try {
      await cancellable(call, 'subscribing', () => Promise.race([subscribed, subscription.closed]))
    } catch (error) {
      await subscription.unsubscribe()
      throw error
    }
    return () => subscription.unsubscribe()
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
    const s = checkPlainObject(snapshot, 'snapshot') as unknown as SnapshotData
    if (s.data === undefined) throw new InvalidArgumentError('snapshot.data is missing')
    const sourceType = checkText(s.sourceType, 'snapshot.sourceType')
    const metadata = s.metadata === undefined || s.metadata === null ? {} : checkPlainObject(s.metadata, 'snapshot.metadata')
    const row = {
      source_uuid: checkText(s.sourceUuid, 'snapshot.sourceUuid'),
      source_version: checkPosition(s.sourceVersion, 'snapshot.sourceVersion'),
      source_type: sourceType,
      data: storedValue(this.#codec, encodeTerm(this.#codec, s.data, 'snapshot.data', sourceType)),
      metadata: storedValue(this.#codec, encodeTerm(this.#codec, metadata, 'snapshot.metadata', sourceType)),
    }
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
    return {
      sourceUuid: row.source_uuid,
      sourceVersion: row.source_version,
      sourceType: row.source_type,
      data: decodeStored(this.#codec, row.data, row.source_type),
      metadata: decodeStored(this.#codec, row.metadata, row.source_type) as Record<string, unknown>,
      createdAt: row.created_at,
    }
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

  #readCount(count: unknown, iterator: string): number {
    return checkReadCount(count, this.config.maxReadCount, 'count', `iterate with store.${iterator}(), which holds one page in memory at a time`)
  }

  #readPage(streamId: string, start: number, count: number, direction: Direction, filter: ResolvedFilter | null = null, call: CallOptions = {}): Promise<RecordedEvent[]> {
    const message = () => ({ schema: this.config.schema, streamId, direction, start, count })
    return traced(channels.read, message, () => this.#fetchPage(streamId, start, count, direction, filter, call))
  }

  /** A page from a reader worker, decoded; its latency and size go to the metrics. */
  async #fetchPage(streamId: string, start: number, count: number, direction: Direction, filter: ResolvedFilter | null, call: CallOptions): Promise<RecordedEvent[]> {
    const began = performance.now()
    const task: ReadTask =
      streamId === ALL_STREAM ? { op: 'read_all', start, count, direction, filter } : { op: 'read_stream', streamId, start, count, direction }
    const result = await this.#readers.run(task, call)
    if (result.status === 'not_found') throw new StreamNotFoundError(`stream "${streamId}" does not exist`, { streamId })
    if (result.status === 'deleted') throw new StreamDeletedError(`stream "${streamId}" has been deleted`, { streamId })
    if (result.status !== 'found' && result.status !== 'filtered') throw new ConnectionError(`unexpected reader reply ${result.status}`)
    const events = decodeEvents(this.#codec, parsePage(result.events))
    this.#metrics.read(events.length, performance.now() - began)
    return events
  }

  #readWindow(start: number, end: number, count: number): Promise<Window> {
    const message = () => ({ schema: this.config.schema, streamId: ALL_STREAM, direction: 'forward' as const, start, count })
    return traced(channels.read, message, () => this.#fetchWindow(start, end, count))
  }

  async #fetchWindow(start: number, end: number, count: number): Promise<Window> {
    const began = performance.now()
    const result = await this.#readers.run({ op: 'read_all_window', start, end, count })
    if (result.status !== 'window') throw new ConnectionError(`unexpected reader reply ${result.status}`)
    const events = decodeEvents(this.#codec, parsePage(result.events))
    this.#metrics.read(events.length, performance.now() - began)
    return { events, last: result.last }
  }

  async *#iterate(streamId: string, start: number, options: StreamReadOptions, direction: Direction, filter: ResolvedFilter | null = null): AsyncGenerator<RecordedEvent> {
    const pageSize = checkReadCount(options?.readBatchSize ?? 1000, this.config.maxReadCount, 'readBatchSize', 'a smaller page does: the iterator reads as many as it needs')
    const call = checkCallOptions({ signal: options?.signal, timeout: options?.timeout })
    let next = start
    for (;;) {
      // Aborted, the iteration ends: a `for await` over it finishes as if the events had.
      if (call.signal?.aborted) return
      let page: RecordedEvent[]
      try {
        // A filtered page is short only when nothing further matches.
        page = await this.#readPage(streamId, next, pageSize, direction, filter, call)
      } catch (error) {
        if (error instanceof AbortedError && call.signal?.aborted) return
        throw error
      }
      yield* page
      const last = page.at(-1)
      if (page.length < pageSize || !last) return
      next = direction === 'forward' ? last.eventNumber + 1 : last.eventNumber - 1
      if (next < 1) return
    }
  }
}

const checkWriteOptions: (opts: WriteOptions | undefined) => WriteOptions = checkCallOptions

/** Unsubscribes when `signal` aborts, for as long as the subscription runs. */
function stopOnAbort(signal: AbortSignal, subscription: Subscription, report: Report): void {
  const stop = () =>
    void subscription.unsubscribe().catch((error: unknown) =>
      report('warning', 'subscription', `subscription "${subscription.name}": stopping it when its signal aborted failed`, error, { name: subscription.name }),
    )
  if (signal.aborted) return stop()
  signal.addEventListener('abort', stop, { once: true })
  void subscription.closed.then(() => signal.removeEventListener('abort', stop))
}

function checkEventList(events: unknown): void {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidArgumentError(`events must be a non-empty array of { eventType, data }; got ${describe(events)}`)
  }
}

/**
 * Validates and serialises an append's events, as the writer takes it. Whatever the caller's
 * objects do when read (holes in the array, getters that throw) ends as InvalidArgumentError
 * of this append alone.
 */
function prepareEvents(events: EventData[], codec: Codec, traceparent: string | undefined): PreparedEvent[] {
  const prepared: PreparedEvent[] = []
  let units = 0
  for (let i = 0; i < events.length; i += 1) {
    const at = `events[${i}]`
    let event: PreparedEvent
    try {
      event = prepareEvent(events[i], at, codec, traceparent)
    } catch (error) {
      if (error instanceof EventStoreError) throw error
      throw new InvalidArgumentError(`${at} could not be read: ${(error as Error)?.message ?? String(error)}`, { argument: at })
    }
    units += event.dataJson.length + event.metadataJson.length
    prepared.push(event)
  }
  // A UTF-16 unit takes at most 3 bytes in UTF-8: count the bytes only when it may matter.
  if (units * 3 > MAX_APPEND_BYTES) {
    const bytes = prepared.reduce((sum, e) => sum + Buffer.byteLength(e.dataJson) + Buffer.byteLength(e.metadataJson), 0)
    if (bytes > MAX_APPEND_BYTES) {
      throw new InvalidArgumentError(`the events of one append take ${bytes} bytes as stored; at most ${MAX_APPEND_BYTES / 2 ** 20} MiB are allowed, split the append`, { bytes })
    }
  }
  return prepared
}

function prepareEvent(event: EventData | undefined, at: string, codec: Codec, traceparent: string | undefined): PreparedEvent {
  checkPlainObject(event, at)
  const { data, eventType: type, eventId, causationId, correlationId, metadata: given } = event as EventData
  if (data === undefined) throw new InvalidArgumentError(`${at}.data is missing`, { argument: `${at}.data` })
  const checked = given === undefined || given === null ? {} : checkPlainObject(given, `${at}.metadata`)
  const eventType = checkText(type, `${at}.eventType`)
  // A traceparent the caller put there stays: it names the span the event came from.
  const traced = traceparent && !(TRACEPARENT_KEY in checked) ? { ...checked, [TRACEPARENT_KEY]: traceparent } : checked
  // A new event is written in its type's current form: upcasters pass it by.
  const version = codec.upcasters?.currentVersion(eventType) ?? null
  const metadata = version !== null && !(SCHEMA_VERSION_KEY in traced) ? { ...traced, [SCHEMA_VERSION_KEY]: version } : traced
  const idGiven = eventId !== undefined && eventId !== null
  return {
    eventId: idGiven ? checkUuid(eventId, `${at}.eventId`) : uuidV7(),
    eventType,
    causationId: checkOptionalUuid(causationId, `${at}.causationId`),
    correlationId: checkOptionalUuid(correlationId, `${at}.correlationId`),
    dataJson: encodeTerm(codec, data, `${at}.data`, eventType),
    metadataJson: encodeTerm(codec, metadata, `${at}.metadata`, eventType),
    idGiven,
  }
}

/** Most bytes of data and metadata one append may carry: a batch joins them into one text parameter. */
const MAX_APPEND_BYTES = 64 * 2 ** 20

function toStreamInfo(row: InfoRow): StreamInfo {
  return {
    streamId: row.stream_uuid,
    streamVersion: row.stream_version,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    status: row.deleted_at ? 'deleted' : 'created',
  }
}

/** An encoded fragment (see encodeTerm) as the value a jsonb or bytea parameter takes. */
function storedValue(codec: Codec, fragment: string): unknown {
  const parsed = JSON.parse(fragment)
  return codec.column === 'bytea' ? Buffer.from(parsed as string, 'base64') : parsed
}
