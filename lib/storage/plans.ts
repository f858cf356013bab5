// A connection's cached plans. A prepared statement is planned for the tables' size when its
// plan is made; PostgreSQL makes it again after ANALYZE, but where autovacuum is off or has
// not caught up a plan made while a table was small (a sequential scan of `streams`) stays
// while the table grows. DISCARD PLANS drops the cached plans and keeps the statements.
import type { Sql } from './database.js'

export async function discardPlans(sql: Sql): Promise<void> {
  await sql.unsafe('DISCARD PLANS')
}
