// A postgres.js pool bound to one store's schema: search_path is the schema, so no
// statement names it; int8 columns come back as safe JavaScript numbers.
import postgres from 'postgres'
import { ConnectionError } from '../errors.js'

export type Sql = postgres.Sql<Record<string, never>>
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
   * autovacuum is off, never: the writer's batch lookups then kept scanning the whole streams
   * table (measured: 22 ms a batch at 30,000 streams). For the writer's pool; its planning
   * costs ~3% (benchmarks/README.md).
   */
  customPlans?: boolean
}

export function openDatabase({ url, schema, max, role = 'pg-eventstore', customPlans = false }: DatabaseOptions): Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connection: {
      search_path: schema,
      application_name: `${role}:${schema}`,
      ...(customPlans ? { plan_cache_mode: 'force_custom_plan' } : {}),
    },
    types: { int8 },
  }) as unknown as Sql
}

/** Closes the pool, giving running queries a few seconds to finish. */
export async function closeDatabase(sql: Sql): Promise<void> {
  await sql.end({ timeout: 5 })
}
