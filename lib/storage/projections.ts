// A transactional projection's row in the subscriptions table (its checkpoint on $all). Every
// batch and every reset locks that row first (FOR UPDATE), so they go one at a time, in any
// process; the batch reads its events after the checkpoint it finds there, in the same
// transaction, and the user's read model commits with the checkpoint.
import type postgres from 'postgres'
import type { ResolvedFilter } from '../filter.js'
import type { ColumnDataType } from '../serializer.js'
import type { RecordedEvent } from '../types.js'
import { cancelledBy, type Sql } from './database.js'
import { readAllEvents } from './read.js'

/** What a batch applies to the read model: the events as stored (not decoded yet), in the batch's transaction. */
export type ApplyBatch = (stored: RecordedEvent[], tx: postgres.TransactionSql) => unknown

/** What a reset runs in its transaction after the row is locked: clearing the read model. */
export type ClearReadModel = (tx: postgres.TransactionSql) => unknown

/** Sent with the first statement of a projection's transaction, in the same round trip. */
const readModelSearchPath = (tx: postgres.TransactionSql, sql: Sql) => tx.unsafe(sql.statements.read_model_search_path, [`"${sql.schema}"`])

/** A reset that runs SQL text given as is (the CLI's --reset-sql). */
export const clearWithSql =
  (text: string): ClearReadModel =>
  (tx) =>
    tx.unsafe(text)

/**
 * One batch of projection `row`: locks its checkpoint, reads up to `batchSize` events of $all
 * after it, hands them to `apply` and moves the checkpoint past what was looked at, all in one
 * transaction on `sql`. Resolves to the number of events read, 'caught_up' when there were
 * none, or null when the row is gone (the projection was deleted).
 */
export async function projectBatch(
  sql: Sql,
  row: string,
  read: { batchSize: number; filter: ResolvedFilter | null; column: ColumnDataType },
  apply: ApplyBatch,
): Promise<number | 'caught_up' | null> {
  const { batchSize, filter, column } = read
  const { statements } = sql
  return (await sql.begin(async (tx) => {
    const [, [locked]] = await Promise.all([readModelSearchPath(tx, sql), tx.unsafe<{ last_seen: number }[]>(statements.projection_lock, [row])])
    if (!locked) return null
    const { events: stored, head } = await readAllEvents(tx, statements, locked.last_seen + 1, batchSize, filter, column)
    const last = stored.at(-1)?.eventNumber ?? locked.last_seen
    // A short filtered page looked at everything up to the head it read.
    const upTo = head !== null && stored.length < batchSize ? Math.max(last, head) : last
    if (stored.length > 0) await apply(stored, tx)
    if (upTo > locked.last_seen) await tx.unsafe(statements.subscription_checkpoint, ['$all', row, upTo])
    return stored.length === 0 ? 'caught_up' : stored.length
  })) as number | 'caught_up' | null
}

/**
 * Sends projection `row` back to the start, running `clear` in the same transaction, after
 * the row is locked: a batch in flight commits first, and the next batch, in any process,
 * starts from the first event.
 * @returns false when there is no such projection
 */
export async function resetProjectionRow(sql: Sql, row: string, clear: ClearReadModel | undefined, signal?: AbortSignal): Promise<boolean> {
  const { statements } = sql
  return (await sql.begin(async (tx) => {
    // The wait for a batch in flight is cancelled in PostgreSQL; after the user's reset, an
    // abort still rolls everything back.
    const [, [locked]] = await Promise.all([readModelSearchPath(tx, sql), cancelledBy(tx.unsafe(statements.projection_lock, [row]), signal)])
    if (!locked) return false
    await clear?.(tx)
    if (signal?.aborted) throw signal.reason
    await tx.unsafe(statements.projection_reset, [row])
    return true
  })) as boolean
}
