// The SQL the store runs, one statement per file in sql/statements/, read once at start.
// Every table and function of the store is written {schema}.name and qualified here with the
// store's quoted schema: a pooler's server connection may carry any search_path (PgBouncer
// refuses it as a startup parameter), and a qualified name never resolves elsewhere.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sqlDir } from '../package_files.js'

export const statementNames = [
  'lock_all_stream',
  'query_streams',
  'query_events',
  'query_links',
  'write_batch',
  'write_expected',
  'notify',
  'column_data_type',
  'read_stream_forward',
  'read_stream_backward',
  'read_all_forward',
  'read_all_backward',
  'read_all_window',
  'stream_info',
  'last_position',
  'subscription_create',
  'subscription_checkpoint',
  'subscription_delete',
  'subscription_unlock',
  'fleet_join',
  'fleet_try_lock',
  'fleet_hand_over',
  'fleet_leave',
  'soft_delete_stream',
  'hard_delete_stream',
  'allow_hard_delete',
  'paginate_streams',
  'snapshot_record',
  'snapshot_read',
  'snapshot_delete',
  'outcome_wait',
  'outcome_event_written',
  'outcome_link_written',
  'outcome_stream_deleted',
  'subscription_status',
  'first_event_after',
  'read_all_filtered_forward',
  'read_all_filtered_backward',
  'projection_lock',
  'projection_reset',
  'read_model_search_path',
] as const

export type StatementName = (typeof statementNames)[number]

/** The statements of one store, its schema in place. */
export type Statements = Readonly<Record<StatementName, string>>

export const statementsDir = join(sqlDir, 'statements')

/** Where a statement names the store's schema. */
export const SCHEMA_PLACEHOLDER = '{schema}'

function load(): Statements {
  const entries = statementNames.map((name) => [name, readFileSync(join(statementsDir, `${name}.sql`), 'utf8')])
  return Object.fromEntries(entries) as Statements
}

/** The statements as written, with the placeholder. */
export const statementTexts = load()

const bySchema = new Map<string, Statements>()

/**
 * The statements of the store in `schema` (a name config.ts checked: no quote can occur in
 * it). The same strings each time, so postgres.js keeps one prepared statement per text.
 */
export function statementsFor(schema: string): Statements {
  let found = bySchema.get(schema)
  if (!found) {
    const quoted = `"${schema}"`
    found = Object.fromEntries(statementNames.map((name) => [name, statementTexts[name].replaceAll(SCHEMA_PLACEHOLDER, quoted)])) as Statements
    bySchema.set(schema, found)
  }
  return found
}
