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
  /** Connections of the main thread's pool; default 10. */
  poolSize?: number
  /** Threads of the reader/subscription worker pool; default: the number of CPUs. */
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

export interface ResolvedConfig {
  url: string | null
  /** Null: the same as the url the store connects to. */
  sessionUrl: string | null
  prepare: boolean
  embedded: Required<Pick<EmbeddedConfig, 'dataDir' | 'createSystemUser'>> & { port: number | undefined }
  schema: string
  poolSize: number
  workers: number
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
  return {
    url,
    sessionUrl,
    prepare: flag(config.prepare, true, 'prepare'),
    embedded: { dataDir: embedded.dataDir ?? '.pg-eventstore', port: embedded.port, createSystemUser: embedded.createSystemUser === true },
    schema: checkSchemaName(config.schema ?? 'public'),
    poolSize: positiveInteger(config.poolSize, 10, 'poolSize'),
    workers: positiveInteger(config.workers, availableParallelism(), 'workers'),
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
