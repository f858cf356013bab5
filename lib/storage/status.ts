// What the database knows of a schema's subscriptions, for store.status(): each one's stored
// checkpoint, the head of its stream, and the session holding its advisory lock.
import type { Sql } from './database.js'

export interface SubscriptionRow {
  stream_uuid: string
  subscription_name: string
  last_seen: number
  head: number
  /** The backend holding the lock; null when nobody does. */
  backend_pid: number | null
  application_name: string | null
  client_addr: string | null
  /** The tag of the store the holding session serves (lib/storage/fleet.ts); null when it does not say. */
  store_tag: number | null
}

const prepared = { prepare: true } as const

/** Every persistent subscription (and projection) of `schema`, by stream and name. */
export async function subscriptionRows(sql: Sql, schema: string): Promise<SubscriptionRow[]> {
  return await sql.unsafe<SubscriptionRow[]>(sql.statements.subscription_status, [schema], prepared)
}

/** When the first event after `position` of the stream (or `$all`) was written; null when there is none. */
export async function firstEventAfter(sql: Sql, streamId: string, position: number): Promise<Date | null> {
  const [row] = await sql.unsafe<{ created_at: Date }[]>(sql.statements.first_event_after, [streamId, position], prepared)
  return row?.created_at ?? null
}
