// What a store needs before it can start: its database (the given URL or an embedded
// server), its schema checked, its codec, and the worker pool with the reader actors. The
// schema commands use a short-lived connection made the same way (withDatabase).
import { randomInt, randomUUID } from 'node:crypto'
import type { Piscina } from 'piscina'
import { startPool, type WorkerContextData } from '../actors/pool.js'
import { type EventStoreConfig, type ResolvedConfig, resolveConfig } from '../config.js'
import { acquireEmbeddedServer, type EmbeddedServer } from '../embedded/server.js'
import { workerUrl } from '../package_files.js'
import { type Codec, loadSerializer } from '../serializer.js'
import { connectFailure } from '../storage/connect_errors.js'
import { newConnectionCounts } from '../storage/connection_counts.js'
import { type ConnectionTarget, openAdminConnection, openStorePool } from '../storage/connections.js'
import { closeDatabase, type Sql } from '../storage/database.js'
import { toEventStoreError } from '../storage/pg_errors.js'
import * as schemaLife from '../storage/schema.js'
import { loadUpcasters } from '../upcasting.js'

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
  const sql = openAdminConnection(url, resolved.schema, resolved.prepare)
  try {
    return await work(sql, resolved, url)
  } catch (error) {
    throw connectFailure(error, url) ?? toEventStoreError(error, resolved.schema)
  } finally {
    await closeDatabase(sql)
    await embedded?.release()
  }
}

export interface OpenedStore {
  resolved: ResolvedConfig
  /** Where the store connects, with the passwords. */
  target: ConnectionTarget
  sql: Sql
  context: WorkerContextData
  pool: Piscina
  embedded: EmbeddedServer | null
  codec: Codec
}

/** Connects, checks the schema, loads the codec and starts the worker pool; closes what it opened if any step fails. */
export async function openStore(config: EventStoreConfig): Promise<OpenedStore> {
  const resolved = resolveConfig(config)
  const { url, embedded } = await connect(resolved)
  const target: ConnectionTarget & { counts: Int32Array } = {
    url,
    sessionUrl: resolved.sessionUrl ?? url,
    schema: resolved.schema,
    connection: resolved.connection,
    prepare: resolved.prepare,
    counts: newConnectionCounts(),
  }
  const sql = openStorePool(target, resolved.poolSize)
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
    ...target,
    connectionsPerWorker: resolved.budget.connectionsPerWorker,
    column: codec.column,
    serializer: resolved.serializer,
    upcasters: typeof resolved.upcasters === 'string' ? resolved.upcasters : null,
    storeId: randomUUID(),
    storeTag: randomInt(1, 2 ** 31 - 1),
  }
  const pool = startPool({
    filename: workerUrl('reader_worker'),
    threads: resolved.workers,
    workerData: context,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
  })
  return { resolved, target, sql, context, pool, embedded, codec }
}
