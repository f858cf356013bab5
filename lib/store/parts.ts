// The parts of a started store, built in the order they depend on each other (subscriptions
// before the writer that hands them committed events) and stopped in the reverse order.
import type { Piscina } from 'piscina'
import { untilAborted } from '../actors/timeout.js'
import type { ResolvedConfig } from '../config.js'
import type { EmbeddedServer } from '../embedded/server.js'
import { newOrigin } from '../notifications/notification.js'
import { StoreMetrics } from '../observability/metrics.js'
import type { ReportRelay } from '../observability/report_relay.js'
import { LockSession } from '../locks/lock_session.js'
import { Projections } from '../projections/registry.js'
import type { Query } from '../storage/query.js'
import { ReaderPool } from '../readers/reader_pool.js'
import { Reads } from '../readers/reads.js'
import type { Codec } from '../serializer.js'
import { Snapshots } from '../snapshots/snapshots.js'
import type { OpenedStore } from './startup.js'
import { cachesPlans, openListenSession, openWriterConnection } from '../storage/connections.js'
import { closeDatabase, type Sql } from '../storage/database.js'
import { Subscriptions } from '../subscriptions/subscribe.js'
import { Writer } from '../writer/writer.js'
import { Writes } from '../writer/writes.js'

/** How long stop() lets subscriptions store their last checkpoints. */
const STOP_SUBSCRIPTIONS_MS = 5000

export interface StoreParts {
  config: ResolvedConfig
  /** Tells this store's lock sessions apart from other stores' (lib/storage/fleet.ts). */
  storeTag: number
  sql: Sql
  /** The store's LISTEN session, for its subscriptions and projections. */
  listenOn: Sql
  /** Its open connections by kind, counted by every thread (lib/storage/connection_counts.ts). */
  counts: Int32Array
  /** The store's lock session; its actors on worker threads reach it over their tasks' ports. */
  lockSession: LockSession
  codec: Codec
  pool: Piscina
  embedded: EmbeddedServer | null
  metrics: StoreMetrics
  readers: ReaderPool
  reads: Reads
  subscriptions: Subscriptions
  projections: Projections
  writer: Writer
  writes: Writes
  snapshots: Snapshots
  /** Stops the OpenTelemetry bridge, when it runs. */
  detachTelemetry: (() => void) | null
}

export function assembleStore(opened: OpenedStore, relay: ReportRelay, metrics: StoreMetrics, query: Query): StoreParts {
  const { resolved: config, target, sql, context, pool, embedded, codec } = opened
  const listenOn = openListenSession(target)
  const report = relay.report
  const readers = new ReaderPool(pool, config.workers)
  const origin = newOrigin()
  const lockSession = new LockSession(target, { schema: config.schema, tag: context.storeTag }, report)
  const subscriptions = new Subscriptions({ pool, sql, listenOn, locks: lockSession, schema: config.schema, codec, origin, context, report, metrics })
  const writer = new Writer(sql, config.schema, {
    openConnection: () => openWriterConnection(target),
    cachesPlans: cachesPlans(target),
    maxQueued: config.maxQueuedWrites,
    outcomeTimeout: config.outcomeTimeout,
    report,
    origin,
    onCommitted: (committed) => subscriptions.handOff(committed),
    onOutcomeUnknown: () => subscriptions.wakeAll(),
    metrics,
  })
  return {
    config,
    storeTag: context.storeTag,
    sql,
    listenOn,
    counts: context.counts,
    lockSession,
    codec,
    pool,
    embedded,
    metrics,
    readers,
    reads: new Reads(readers, codec, metrics, config.schema, config.maxReadCount),
    subscriptions,
    projections: new Projections({ sql, listenOn, locks: lockSession, room: config.budget.projections, target, codec, upcasters: config.upcasters, context, report }),
    writer,
    writes: new Writes(writer, codec, metrics, { schema: config.schema, recordTraceContext: config.recordTraceContext }),
    snapshots: new Snapshots(sql, codec, query),
    detachTelemetry: null,
  }
}

/**
 * Stops the telemetry bridge, projections and subscriptions (storing their checkpoints),
 * drains the writer, stops the workers, closes the pools and releases the embedded server;
 * each step bounded. Once `cut` aborts, what still runs is ended without waiting.
 */
export async function shutDown(parts: StoreParts, relay: ReportRelay, cut: AbortSignal): Promise<void> {
  parts.detachTelemetry?.()
  parts.projections.close()
  const cutError = () => new Error('stop() was cut short by its signal or timeout')
  const projections = parts.projections.running
  await untilAborted(Promise.all(projections.map((projection) => projection.stop())), cut, cutError).catch(() => {
    for (const projection of projections) projection.halt()
  })
  await parts.subscriptions.stopAll(STOP_SUBSCRIPTIONS_MS, cut)
  await untilAborted(parts.writer.stop(), cut, cutError).catch(() => parts.writer.abandon())
  await parts.readers.close(cut)
  await parts.pool.close({ force: true })
  await parts.lockSession.close(cut.aborted ? 0 : undefined)
  if (cut.aborted) relay.report('warning', 'store', 'stop() was cut short by its signal or timeout: what still ran was ended without waiting')
  await Promise.all([closeDatabase(parts.sql, cut.aborted ? 0 : undefined), closeDatabase(parts.listenOn, cut.aborted ? 0 : undefined)])
  relay.close()
  await parts.embedded?.release()
}
