// Which connection each part of the store talks to PostgreSQL on, and the name it shows in
// pg_stat_activity. Chosen here so that no layer above opens one of its own.
import type { ConnectionSettings } from '../config.js'
import { openDatabase, type Sql } from './database.js'
import { lockSessionRole } from './holder.js'

/** Where to connect: the store's database and schema, and how patiently. */
export interface ConnectionTarget {
  url: string
  schema: string
  connection: ConnectionSettings
}

/** The store's pool on the main thread: reads, subscriptions' bookkeeping, status. */
export const openStorePool = ({ url, schema, connection }: ConnectionTarget, max: number): Sql => openDatabase({ url, schema, max, customPlans: true, connection })

/** The writer actor's own connection: every batch of appends, links and deletes goes on it. */
export const openWriterConnection = ({ url, schema, connection }: ConnectionTarget): Sql =>
  openDatabase({ url, schema, max: 1, customPlans: true, role: 'pg-eventstore writer', connection })

/** A short-lived connection for the schema commands (init, migrate, drop, info). */
export const openAdminConnection = (url: string, schema: string): Sql => openDatabase({ url, schema, max: 1, role: 'pg-eventstore admin' })

/** A worker thread's pool, for its actors' reads and checkpoints. */
export const openWorkerPool = ({ url, schema, connection }: ConnectionTarget, max: number): Sql => openDatabase({ url, schema, max, role: 'pg-eventstore worker', connection })

/** The pool of an actor-module projection's thread. */
export const openProjectionPool = ({ url, schema, connection }: ConnectionTarget): Sql => openDatabase({ url, schema, max: 2, role: 'pg-eventstore projection', connection })

/**
 * The connection a projection's batches run on, its own and replaced whenever the server was
 * lost: a postgres.js 3 pool whose connections were terminated mid-transaction could leave
 * the next begin() waiting for a connection for ever.
 */
export const openProjectionBatchConnection = ({ url, schema, connection }: ConnectionTarget): Sql =>
  openDatabase({ url, schema, max: 1, role: 'pg-eventstore projection', connection })

/**
 * The session holding advisory locks, named after this process (lib/storage/holder.ts). A
 * pool of one connection: postgres.js hangs a worker when the session under sql.reserve() is
 * killed.
 */
export const openLockSession = ({ url, schema, connection }: ConnectionTarget): Sql => openDatabase({ url, schema, max: 1, role: lockSessionRole(), connection })
