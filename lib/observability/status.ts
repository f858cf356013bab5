// store.status(): the subscriptions of the schema as the database knows them (checkpoint,
// head, holder), overlaid with what this store's own actors know better (state, the
// acknowledged position, subscribers). Also what `pg-eventstore status` and the admin page show.
import { hostname } from 'node:os'
import type { Sql } from '../storage/database.js'
import { statements } from '../storage/statements.js'
import type { ActorStatus } from '../subscriptions/messages.js'
import { type Holder, parseHolder } from './holder.js'

export type SubscriptionState = 'live' | 'catching_up' | 'standby' | 'stopped'

export interface SubscriptionStatus {
  name: string
  /** `$all` or a stream id. */
  streamId: string
  state: SubscriptionState
  /** Every event up to here is acknowledged (for another process's subscription: the last stored checkpoint). */
  checkpoint: number
  /** The last position of its stream (of `$all`: the last global position). */
  head: number
  /** How far behind: events between checkpoint and head, and the age of the first of them in seconds (0 when none). */
  lag: { events: number; seconds: number }
  /** The process holding it, or null when nobody runs it. */
  holder: Holder | null
  /** Subscribers attached in this store; null when another process holds it. */
  subscribers: number | null
  /** Seconds since this store last stored its checkpoint; null when not run here or not stored yet. */
  checkpointAge: number | null
  /** Whether this store runs it. */
  local: boolean
}

/** One subscription actor of this store, as Subscriptions knows it. */
export interface LocalSubscription {
  streamId: string
  name: string
  subscribers: number
  /** Null when the actor did not answer in time. */
  actor: ActorStatus | null
}

interface Row {
  stream_uuid: string
  subscription_name: string
  last_seen: number
  head: number
  /** The backend holding the lock; null when nobody does. */
  backend_pid: number | null
  application_name: string | null
  client_addr: string | null
}

const prepared = { prepare: true } as const
const thisHost = hostname()

export async function subscriptionStatus(sql: Sql, schema: string, local: LocalSubscription[], now = Date.now()): Promise<SubscriptionStatus[]> {
  const rows = await sql.unsafe<Row[]>(statements.subscription_status, [schema], prepared)
  const byKey = new Map(local.map((l) => [`${l.streamId}\u0000${l.name}`, l]))
  const listed = rows.map((row) => describe(row, byKey.get(`${row.stream_uuid}\u0000${row.subscription_name}`) ?? null, now))
  // Transient subscriptions keep no row: only this store knows them.
  const stored = new Set(rows.map((row) => `${row.stream_uuid}\u0000${row.subscription_name}`))
  for (const [key, subscription] of byKey) {
    if (stored.has(key)) continue
    const [head] = await sql.unsafe<{ stream_version: number }[]>(statements.last_position, [subscription.streamId], prepared)
    listed.push(
      describe(
        { stream_uuid: subscription.streamId, subscription_name: subscription.name, last_seen: 0, head: head?.stream_version ?? 0, backend_pid: null, application_name: null, client_addr: null },
        subscription,
        now,
      ),
    )
  }
  await Promise.all(listed.map((status) => lagInSeconds(sql, status, now)))
  return listed
}

function describe(row: Row, local: LocalSubscription | null, now: number): SubscriptionStatus {
  const actor = local?.actor ?? null
  const checkpoint = actor ? actor.acknowledged : row.last_seen
  const runsHere = actor !== null && (actor.status === 'loading' || actor.status === 'running')
  // A standby here sees the holder elsewhere.
  const holder = runsHere ? { host: thisHost, pid: process.pid } : row.backend_pid !== null ? parseHolder(row.application_name, row.client_addr) : null
  const events = Math.max(0, row.head - checkpoint)
  return {
    name: row.subscription_name,
    streamId: row.stream_uuid,
    state: stateOf(actor, holder !== null, events),
    checkpoint,
    head: row.head,
    lag: { events, seconds: 0 },
    holder,
    subscribers: local ? local.subscribers : null,
    checkpointAge: actor?.storedAt ? (now - actor.storedAt) / 1000 : null,
    local: local !== null,
  }
}

function stateOf(actor: ActorStatus | null, held: boolean, lag: number): SubscriptionState {
  if (!actor) return !held ? 'stopped' : lag === 0 ? 'live' : 'catching_up'
  if (actor.status === 'standby' || actor.status === 'stopped') return actor.status
  return actor.status === 'running' && actor.caughtUp ? 'live' : 'catching_up'
}

async function lagInSeconds(sql: Sql, status: SubscriptionStatus, now: number): Promise<void> {
  if (status.lag.events === 0) return
  const [row] = await sql.unsafe<{ created_at: Date }[]>(statements.first_event_after, [status.streamId, status.checkpoint], prepared)
  if (row) status.lag.seconds = Math.max(0, (now - row.created_at.getTime()) / 1000)
}
