// The fleet as PostgreSQL sees it: every store serving a schema, in any process, marks its
// lock sessions and the work items (subscriptions, projections) it wants with shared advisory
// locks, so that pg_locks shows who is alive, what is wanted and who holds what. A store
// takes an item only up to its fair share, and hands one over to a store holding two fewer.
import { textArray } from './arrays.js'
import type { Sql } from './database.js'

/** Which store is asking: its schema and its tag (a number that tells its sessions apart from other stores'). */
export interface FleetMember {
  schema: string
  tag: number
}

export interface TakeResult {
  /** true: taken; false: another session holds it; null: free, but this store holds its share already. */
  acquired: boolean | null
  /** The backend pid of the session asked. */
  pid: number
}

/** Marks the session as serving this store and wanting `name` (each once per session). */
export async function joinFleet(session: Sql, member: FleetMember, name: string): Promise<void> {
  await session.unsafe(session.statements.fleet_join, [member.schema, member.tag, name])
}

/** Takes the lock `name` if this store is under its share, or whatever its share when `pressing`. */
export async function takeWithinShare(session: Sql, member: FleetMember, name: string, pressing: boolean): Promise<TakeResult> {
  const [row] = await session.unsafe<{ acquired: boolean | null; free: boolean; pid: number }[]>(session.statements.fleet_try_lock, [member.schema, member.tag, name, pressing])
  // The statement answers null both when the item is held elsewhere and when the share said no.
  return { acquired: row?.free ? row.acquired : false, pid: row?.pid ?? 0 }
}

/** Of the locks `held` on this session, those to hand over to stores with fewer. */
export async function itemsToHandOver(session: Sql, member: FleetMember, held: string[]): Promise<string[]> {
  if (held.length === 0) return []
  const rows = await session.unsafe<{ name: string }[]>(session.statements.fleet_hand_over, [member.schema, member.tag, textArray(held)])
  return rows.map((row) => row.name)
}

/** The store no longer wants `name`. */
export async function leaveItem(session: Sql, member: FleetMember, name: string): Promise<void> {
  await session.unsafe(session.statements.fleet_leave, [member.schema, name])
}
