// Which connection each part of the store talks to PostgreSQL on, and the name it shows in
// pg_stat_activity. Chosen here so that no layer above opens one of its own. Statements go
// to `url`, which may be a transaction-mode pooler: each transaction may land on another
// server connection, so nothing there relies on session state. What needs a session of its
// own (LISTEN, the advisory lock sessions) goes to `sessionUrl`.
import type { ConnectionSettings } from '../config.js'
import type { ConnectionKind } from './connection_counts.js'
import { openDatabase, type Sql } from './database.js'
import { lockSessionRole } from './holder.js'

/** Where to connect: the store's database and schema, and how patiently. */
export interface ConnectionTarget {
  /** Statements and transactions; may be a transaction-mode pooler. */
  url: string
  /** LISTEN and the lock sessions: a connection that keeps its session (default: `url`). */
  sessionUrl: string
  schema: string
  connection: ConnectionSettings
  /** Named prepared statements (postgres.js `prepare`); off behind a pooler that cannot carry them. */
  prepare: boolean
  /** The store's open connections by kind, shared with its threads (lib/storage/connection_counts.ts). */
  counts?: Int32Array
}

/**
 * Whether PostgreSQL caches the plans of a connection's statements: only where they are
 * prepared and go straight to the server. There the store pool asks for custom plans (a
 * startup parameter) and the writer drops its plans as the store grows. Behind a pooler no
 * startup parameter but application_name is sent (PgBouncer refuses plan_cache_mode), and
 * unnamed statements (prepare: false) are planned for their parameters at every run anyway.
 */
export const cachesPlans = ({ url, sessionUrl, prepare }: ConnectionTarget): boolean => prepare && url === sessionUrl

const counted = ({ counts }: ConnectionTarget, kind: ConnectionKind) => (counts ? { counted: { counts, kind } } : {})

const statementsOn = (target: ConnectionTarget, kind: ConnectionKind, max: number, role?: string, plans = false): Sql =>
  openDatabase({ url: target.url, schema: target.schema, max, role, customPlans: plans && cachesPlans(target), prepare: target.prepare, connection: target.connection, ...counted(target, kind) })

const sessionOn = (target: ConnectionTarget, kind: ConnectionKind, role: string): Sql =>
  openDatabase({ url: target.sessionUrl, schema: target.schema, max: 1, role, prepare: target.prepare, connection: target.connection, ...counted(target, kind) })

/** The store's pool on the main thread: reads, subscriptions' bookkeeping, status. */
export const openStorePool = (target: ConnectionTarget, max: number): Sql => statementsOn(target, 'store', max, undefined, true)

/**
 * The writer actor's own connection: every batch of appends, links and deletes goes on it.
 * PostgreSQL may keep a generic plan of its statements; the writer drops its plans as the
 * store grows (lib/writer/replanning.ts).
 */
export const openWriterConnection = (target: ConnectionTarget): Sql => statementsOn(target, 'writer', 1, 'pg-eventstore writer')

/** A short-lived connection for the schema commands (init, migrate, drop, info). */
export const openAdminConnection = (url: string, schema: string, prepare = true): Sql => openDatabase({ url, schema, max: 1, role: 'pg-eventstore admin', prepare })

/** A worker thread's pool, for its actors' reads and checkpoints. */
export const openWorkerPool = (target: ConnectionTarget, max: number): Sql => statementsOn(target, 'workers', max, 'pg-eventstore worker')

/** The pool of an actor-module projection's thread. */
export const openProjectionPool = (target: ConnectionTarget): Sql => statementsOn(target, 'projections', 1, 'pg-eventstore projection')

/**
 * The connection a projection's batches run on, its own and replaced whenever the server was
 * lost: a postgres.js 3 pool whose connections were terminated mid-transaction could leave
 * the next begin() waiting for a connection for ever.
 */
export const openProjectionBatchConnection = (target: ConnectionTarget): Sql => statementsOn(target, 'projections', 1, 'pg-eventstore projection')

/**
 * The session holding advisory locks, named after this process (lib/storage/holder.ts). A
 * pool of one connection: postgres.js hangs a worker when the session under sql.reserve() is
 * killed.
 */
export const openLockSession = (target: ConnectionTarget): Sql => sessionOn(target, 'lockSession', lockSessionRole())

/**
 * What LISTEN runs on: postgres.js opens one dedicated connection per pool for all its
 * channels (the pool itself stays unused), re-listening after a reconnect.
 */
export const openListenSession = (target: ConnectionTarget): Sql => sessionOn(target, 'listener', 'pg-eventstore listener')
