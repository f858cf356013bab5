// A postgres.js pool bound to one store's schema: it carries the store's statements with the
// schema written into them (lib/storage/statements.ts), so nothing depends on the server
// connection's search_path; int8 columns come back as safe JavaScript numbers.
import postgres from 'postgres'
import type { ConnectionSettings } from '../config.js'
import { ConnectionError } from '../errors.js'
import { type ConnectionKind, countedSocket } from './connection_counts.js'
import { type Statements, statementsFor } from './statements.js'

export type Sql = postgres.Sql<Record<string, never>> & {
  /** The store's statements, qualified with its schema. */
  readonly statements: Statements
  readonly schema: string
}
export type ReservedSql = postgres.ReservedSql<Record<string, never>>

const int8 = {
  to: 20,
  from: [20],
  serialize: (value: number | bigint) => value.toString(),
  parse: (text: string) => {
    const value = Number(text)
    if (!Number.isSafeInteger(value)) throw new ConnectionError(`int8 value ${text} is beyond JavaScript's safe integers`)
    return value
  },
}

export interface DatabaseOptions {
  url: string
  schema: string
  max: number
  /** Shown in pg_stat_activity as "<role>:<schema>", so operators see which store a connection serves. */
  role?: string
  /**
   * Plan every statement for the tables as they are now. A plan cached while a table was
   * small (a sequential scan) stays cached until the table is next analyzed; where
   * autovacuum is off, never: lookups by stream then kept scanning the whole streams table.
   * For the store pool; the writer instead drops its plans as the store grows
   * (lib/writer/replanning.ts), since planning each batch costs it (benchmarks/README.md).
   */
  customPlans?: boolean
  /**
   * Bounds on connecting: postgres.js waits up to 30 s for a connection and backs off up to
   * 20 s between reconnects by default, so a single writer queued behind it would wait that
   * long after the server is back.
   */
  connection?: ConnectionSettings
  /** Named prepared statements (default); false sends each statement unnamed, as a transaction-mode pooler needs. */
  prepare?: boolean
  /** Counts its open connections in the store's cell of this kind (lib/storage/connection_counts.ts). */
  counted?: { counts: Int32Array; kind: ConnectionKind }
}

export const defaultConnectionSettings: ConnectionSettings = { connectTimeout: 5000, maxReconnectDelay: 500 }

export function openDatabase({ url, schema, max, role = 'pg-eventstore', customPlans = false, connection = defaultConnectionSettings, prepare = true, counted }: DatabaseOptions): Sql {
  const { connectTimeout, maxReconnectDelay } = connection
  const sql = postgres(url, {
    max,
    prepare,
    ...(counted ? { socket: countedSocket(counted.counts, counted.kind) } : {}),
    onnotice: () => {},
    // Array parameters go as literals (lib/storage/arrays.ts): no type catalogue to fetch.
    fetch_types: false,
    connect_timeout: connectTimeout / 1000,
    // Seconds before the next attempt: doubling from 50 ms, capped.
    backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, maxReconnectDelay / 1000),
    // Startup parameters a pooler passes on: PgBouncer refuses search_path.
    connection: {
      application_name: `${role}:${schema}`,
      ...(customPlans ? { plan_cache_mode: 'force_custom_plan' } : {}),
    },
    types: { int8 },
  })
  return Object.assign(sql, { statements: statementsFor(schema), schema }) as unknown as Sql
}

/** Closes the pool, letting running queries finish for up to `seconds` (0: ends them now). */
export async function closeDatabase(sql: Sql, seconds = 5): Promise<void> {
  await sql.end({ timeout: seconds })
}

/** A statement that `signal` cancels in PostgreSQL (its connection is then free again). */
export function cancelledBy<Q extends { cancel(): void }>(statement: Q, signal: AbortSignal | undefined): Q {
  signal?.addEventListener('abort', () => statement.cancel(), { once: true })
  return statement
}
