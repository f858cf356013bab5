// EventStoreConfig → the resolved settings every part of the store reads.
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import type { ColumnDataType } from './serializer.js'
import { type Upcaster, upcastersModuleUrl } from './upcasting.js'
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'
import type { Logger } from './reports.js'

export interface EmbeddedConfig {
  /** Where the embedded server keeps its files; default `.pg-eventstore/`. */
  dataDir?: string
  /** TCP port for a newly started server; default: a free one. */
  port?: number
  /**
   * Running as root, PostgreSQL needs an unprivileged account: create the `postgres` system
   * account when it is missing and let it reach the data directory (o+x on its parents).
   * Off by default: a library does not add system accounts on its own. The demo, the CLI and
   * the tests turn it on.
   */
  createSystemUser?: boolean
}

export interface EventStoreConfig {
  /** PostgreSQL connection string; default `process.env.DATABASE_URL`. May point at a transaction-mode pooler (PgBouncer). */
  url?: string
  /**
   * Where what needs a session of its own connects: LISTEN and the advisory lock sessions of
   * subscriptions and projections. A transaction-mode pooler cannot carry them, so behind one
   * this is the server itself (or a session-mode pool); default `url`.
   */
  sessionUrl?: string
  /**
   * Named prepared statements; default true. false sends every statement unnamed, for a
   * transaction-mode pooler that cannot carry prepared statements (PgBouncer before 1.21).
   */
  prepare?: boolean
  /** Start a bundled PostgreSQL server; the default when there is no url and no DATABASE_URL. */
  embedded?: EmbeddedConfig | boolean
  /** PostgreSQL schema holding the store's tables; default `public`. */
  schema?: string
  /**
   * Every connection the store may open, all kinds together (see status().connections): the
   * main pool, the writer's, the worker threads' pools, the projections', the lock session
   * and the LISTEN session. Default 20, or what an explicit poolSize and workers need.
   * Whatever the pools leave is room for projections (one connection each, three for an
   * actor-module projection); a projection beyond it is refused.
   */
  maxConnections?: number
  /** Connections of the main thread's pool; default 6. */
  poolSize?: number
  /** Threads of the reader/subscription worker pool; default: the number of CPUs, as many as maxConnections holds (each has a pool of at least two). */
  workers?: number
  /** Allow `deleteStream(..., 'hard')`; default false. */
  enableHardDeletes?: boolean
  /** URL or path of a module exporting serialize and deserialize; default JSON. */
  serializer?: string | URL
  /** `'jsonb'` (default) or `'bytea'` for data and metadata; chosen at init, read from the schema at start. */
  columnDataType?: ColumnDataType
  /** Requests the writer holds at most; beyond it appends fail with OverloadedError (code 'overloaded'). Default 10,000. */
  maxQueuedWrites?: number
  /** Events one read call returns at most; a larger `count` is refused (the iterators read any number). Default 10,000. */
  maxReadCount?: number
  /** How long one connection attempt may take, in ms; default 5000. */
  connectTimeout?: number
  /** Longest pause between reconnect attempts after PostgreSQL went away, in ms; default 500. */
  maxReconnectDelay?: number
  /** How long a write whose outcome is unknown (connection lost at commit) may take to be settled, in ms; default 15,000. */
  outcomeTimeout?: number
  /** A pino-style logger for the store's warnings and errors (see store.on('warning')). */
  logger?: Logger
  /**
   * Transforms of stored events to their current schema, applied as events are decoded: an
   * array of { eventType, fromVersion, upcast }, or the URL or path of a module exporting one
   * (only a module reaches actor-module subscribers, which run on threads of their own).
   */
  upcasters?: Upcaster[] | string | URL
  /** Report spans and metrics through @opentelemetry/api when it is installed; default true. */
  openTelemetry?: boolean
  /** Inside a trace, record the W3C traceparent of an append's span in its events' metadata ($traceparent); default true. */
  recordTraceContext?: boolean
}

/** How the store's connections behave when PostgreSQL goes away. */
export interface ConnectionSettings {
  connectTimeout: number
  maxReconnectDelay: number
}

/** How maxConnections is shared out: each kind's most (lib/store/status.ts shows them with the open ones). */
export interface ConnectionBudget {
  max: number
  store: number
  writer: number
  /** Worker threads × connectionsPerWorker. */
  workers: number
  connectionsPerWorker: number
  lockSession: number
  listener: number
  /** Left for projections. */
  projections: number
}

export interface ResolvedConfig {
  url: string | null
  /** Null: the same as the url the store connects to. */
  sessionUrl: string | null
  prepare: boolean
  embedded: Required<Pick<EmbeddedConfig, 'dataDir' | 'createSystemUser'>> & { port: number | undefined }
  schema: string
  poolSize: number
  workers: number
  maxConnections: number
  budget: ConnectionBudget
  enableHardDeletes: boolean
  /** URL of the serializer module, or null for JSON. */
  serializer: string | null
  /** As configured; null: whatever the schema was made with (jsonb for a new one). */
  columnDataType: ColumnDataType | null
  maxQueuedWrites: number
  maxReadCount: number
  connection: ConnectionSettings
  outcomeTimeout: number
  logger: Logger | null
  openTelemetry: boolean
  recordTraceContext: boolean
  /** As given (an array), or the module's URL; null: none. */
  upcasters: Upcaster[] | string | null
}

/** Identifiers we interpolate into DDL; anything else is refused rather than quoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function checkSchemaName(value: unknown): string {
  if (typeof value === 'string' && SCHEMA_NAME.test(value) && !value.startsWith('pg_')) return value
  throw new InvalidArgumentError(
    `schema must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63; not starting with pg_); got ${describe(value)}`,
    { argument: 'schema' },
  )
}

/** A role name we interpolate into GRANT statements: the same rule as schema names. */
export function checkRoleName(value: unknown): string {
  if (typeof value === 'string' && SCHEMA_NAME.test(value) && !value.startsWith('pg_')) return value
  throw new InvalidArgumentError(`role must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63; not starting with pg_); got ${describe(value)}`, {
    argument: 'role',
  })
}

function flag(value: unknown, fallback: boolean, what: string): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  throw new InvalidArgumentError(`${what} must be true or false; got ${describe(value)}`, { argument: what })
}

function positiveInteger(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  throw new InvalidArgumentError(`${what} must be a positive integer; got ${describe(value)}`, { argument: what })
}

const DEFAULT_MAX_CONNECTIONS = 20
const DEFAULT_POOL_SIZE = 6
/** Besides the pools: the writer's connection, the lock session, the LISTEN session. */
const FIXED_CONNECTIONS = 3
/** A worker thread's pool holds at least this many: one actor's long read does not stall the rest. */
const MIN_CONNECTIONS_PER_WORKER = 2
/** Room for projections that the default number of worker threads leaves at least. */
const MIN_PROJECTION_ROOM = 2

/** 6, or less where a small budget must still hold a worker thread and some room for projections. */
function defaultPoolSize(max: number): number {
  return Math.max(1, Math.min(DEFAULT_POOL_SIZE, max - FIXED_CONNECTIONS - MIN_PROJECTION_ROOM - MIN_CONNECTIONS_PER_WORKER))
}

/** One per CPU, as many as `max` holds beside the main pool and some room for projections. */
function defaultWorkers(max: number, poolSize: number): number {
  const room = max - FIXED_CONNECTIONS - poolSize - MIN_PROJECTION_ROOM
  return Math.max(1, Math.min(availableParallelism(), Math.floor(room / MIN_CONNECTIONS_PER_WORKER)))
}

/**
 * Shares maxConnections out. The worker threads divide the main pool's size among them (two
 * each at least); what the pools leave is the projections'. Without an explicit
 * maxConnections the budget is 20, or more when poolSize and workers ask for more.
 */
export function connectionBudget(explicitMax: number | null, poolSize: number, workers: number): ConnectionBudget {
  const connectionsPerWorker = Math.max(MIN_CONNECTIONS_PER_WORKER, Math.ceil(poolSize / workers))
  const pools = FIXED_CONNECTIONS + poolSize + workers * connectionsPerWorker
  const max = explicitMax ?? Math.max(DEFAULT_MAX_CONNECTIONS, pools + MIN_PROJECTION_ROOM)
  if (pools > max) {
    throw new InvalidArgumentError(
      `maxConnections ${max} is too small: the main pool (poolSize ${poolSize}), ${workers} worker thread(s) of ${connectionsPerWorker} and the writer, lock and LISTEN sessions need ${pools}; raise maxConnections or lower poolSize or workers`,
      { argument: 'maxConnections' },
    )
  }
  return { max, store: poolSize, writer: 1, workers: workers * connectionsPerWorker, connectionsPerWorker, lockSession: 1, listener: 1, projections: max - pools }
}

function checkUrl(url: unknown, what: string): string | null {
  if (url === null || (typeof url === 'string' && /^postgres(ql)?:\/\//.test(url) && URL.canParse(url))) return url
  // Not echoed: a connection string may hold a password.
  throw new InvalidArgumentError(`${what} must be a postgres:// connection string (postgres://user:password@host:port/database); got ${typeof url === 'string' ? 'a malformed one' : describe(url)}`, {
    argument: what,
  })
}

export function resolveConfig(config: EventStoreConfig = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidArgumentError(`config must be an object; got ${describe(config)}`, { argument: 'config' })
  }
  const url = checkUrl(config.url ?? (config.embedded ? undefined : env.DATABASE_URL || undefined) ?? null, 'url')
  const sessionUrl = checkUrl(config.sessionUrl ?? null, 'sessionUrl')
  const embedded = typeof config.embedded === 'object' && config.embedded !== null ? config.embedded : {}
  if (embedded.port !== undefined) positiveInteger(embedded.port, 0, 'embedded.port')
  const { logger } = config
  if (logger !== undefined && (typeof logger?.warn !== 'function' || typeof logger?.error !== 'function')) {
    throw new InvalidArgumentError(`logger must have warn(object, message) and error(object, message) methods; got ${describe(logger)}`, { argument: 'logger' })
  }
  const { columnDataType, serializer } = config
  if (columnDataType !== undefined && columnDataType !== 'jsonb' && columnDataType !== 'bytea') {
    throw new InvalidArgumentError(`columnDataType must be 'jsonb' or 'bytea'; got ${describe(columnDataType)}`, { argument: 'columnDataType' })
  }
  if (serializer !== undefined && typeof serializer !== 'string' && !(serializer instanceof URL)) {
    throw new InvalidArgumentError(`serializer must be the URL or path of a module; got ${describe(serializer)}`, { argument: 'serializer' })
  }
  const explicitMax = config.maxConnections === undefined ? null : positiveInteger(config.maxConnections, 0, 'maxConnections')
  const poolSize = positiveInteger(config.poolSize, defaultPoolSize(explicitMax ?? DEFAULT_MAX_CONNECTIONS), 'poolSize')
  const workers = config.workers === undefined ? defaultWorkers(explicitMax ?? DEFAULT_MAX_CONNECTIONS, poolSize) : positiveInteger(config.workers, 1, 'workers')
  const budget = connectionBudget(explicitMax, poolSize, workers)
  return {
    url,
    sessionUrl,
    prepare: flag(config.prepare, true, 'prepare'),
    embedded: { dataDir: embedded.dataDir ?? '.pg-eventstore', port: embedded.port, createSystemUser: embedded.createSystemUser === true },
    schema: checkSchemaName(config.schema ?? 'public'),
    poolSize,
    workers,
    maxConnections: budget.max,
    budget,
    enableHardDeletes: config.enableHardDeletes === true,
    serializer: serializer === undefined ? null : serializer instanceof URL ? serializer.href : /^[a-z]+:/i.test(serializer) ? serializer : pathToFileURL(serializer).href,
    columnDataType: columnDataType ?? null,
    maxQueuedWrites: positiveInteger(config.maxQueuedWrites, 10_000, 'maxQueuedWrites'),
    maxReadCount: positiveInteger(config.maxReadCount, 10_000, 'maxReadCount'),
    connection: {
      connectTimeout: positiveInteger(config.connectTimeout, 5000, 'connectTimeout'),
      maxReconnectDelay: positiveInteger(config.maxReconnectDelay, 500, 'maxReconnectDelay'),
    },
    outcomeTimeout: positiveInteger(config.outcomeTimeout, 15_000, 'outcomeTimeout'),
    logger: logger ?? null,
    openTelemetry: flag(config.openTelemetry, true, 'openTelemetry'),
    recordTraceContext: flag(config.recordTraceContext, true, 'recordTraceContext'),
    upcasters: config.upcasters === undefined || Array.isArray(config.upcasters) ? (config.upcasters ?? null) : upcastersModuleUrl(config.upcasters),
  }
}

/** The connection string with its password replaced, for anything shown or logged. */
export function redactUrl(url: string | null): string | null {
  if (url === null || !URL.canParse(url)) return url
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.href
}
