// The subscriptions table: a persistent subscription's (or projection's) row and the
// checkpoint it holds, and the head of the stream it follows.
import type { Sql } from './database.js'

const prepared = { prepare: true } as const

/** The stream's current version (of `$all`: the last global position); 0 when it does not exist. */
export async function streamHead(sql: Sql, streamId: string): Promise<number> {
  const [row] = await sql.unsafe<{ stream_version: number }[]>(sql.statements.last_position, [streamId], prepared)
  return row?.stream_version ?? 0
}

/** Creates the subscription's row at `startFrom` when missing; resolves to its checkpoint either way. */
export async function createSubscription(sql: Sql, streamId: string, name: string, startFrom: number): Promise<number> {
  const [row] = await sql.unsafe<{ last_seen: number }[]>(sql.statements.subscription_create, [streamId, name, startFrom], prepared)
  return row?.last_seen ?? startFrom
}

/** Moves the subscription's checkpoint forward to `position` (never back). */
export async function saveCheckpoint(sql: Sql, streamId: string, name: string, position: number): Promise<void> {
  await sql.unsafe(sql.statements.subscription_checkpoint, [streamId, name, position], prepared)
}

/** Forgets the subscription and its checkpoint; false when there was none. */
export async function deleteSubscription(sql: Sql, streamId: string, name: string): Promise<boolean> {
  const deleted = await sql.unsafe(sql.statements.subscription_delete, [streamId, name], prepared)
  return deleted.length > 0
}
