// The SQL the store runs, one statement per file in sql/statements/, read once at start.
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
  'subscription_try_lock',
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
] as const

export type StatementName = (typeof statementNames)[number]

export const statementsDir = join(sqlDir, 'statements')

function load(): Record<StatementName, string> {
  const entries = statementNames.map((name) => [name, readFileSync(join(statementsDir, `${name}.sql`), 'utf8')])
  return Object.fromEntries(entries) as Record<StatementName, string>
}

export const statements = load()
