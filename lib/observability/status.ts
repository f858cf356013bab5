// store.status(): the subscriptions of the schema as the database knows them (checkpoint,
// head, holder), overlaid with what this store's own actors know better (state, the
// acknowledged position, subscribers). Also what `pg-eventstore status` and the admin page show.
import { hostname } from 'node:os'
import type { Sql } from '../storage/database.js'
import { type Holder, parseHolder, storeName } from '../storage/holder.js'
import { firstEventAfter, subscriptionRows, type SubscriptionRow } from '../storage/status.js'
import { streamHead } from '../storage/subscriptions.js'

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

/** What an actor tells of itself, for store.status(). */
export interface ActorStatus {
  /** The FSM's status: standby (waiting for the lock), loading, running or stopped. */
  status: 'standby' | 'loading' | 'running' | 'stopped'
  /** The last read came back short: the actor follows new events as they come. */
  caughtUp: boolean
  /** Every event up to here is acknowledged. */
  acknowledged: number
  /** The checkpoint last stored, and when (ms since the epoch; null: not since this actor started). */
  storedCheckpoint: number
  storedAt: number | null
}

/** One subscription actor of this store, as Subscriptions knows it. */
export interface LocalSubscription {
  streamId: string
  name: string
  subscribers: number
  /** Null when the actor did not answer in time. */
  actor: ActorStatus | null
}

const thisHost = hostname()

export async function subscriptionStatus(sql: Sql, schema: string, storeTag: number, local: LocalSubscription[], now = Date.now()): Promise<SubscriptionStatus[]> {
  const rows = await subscriptionRows(sql, schema)
  const byKey = new Map(local.map((l) => [`${l.streamId}\u0000${l.name}`, l]))
  const listed = rows.map((row) => describe(row, byKey.get(`${row.stream_uuid}\u0000${row.subscription_name}`) ?? null, storeTag, now))
  // Transient subscriptions keep no row: only this store knows them.
  const stored = new Set(rows.map((row) => `${row.stream_uuid}\u0000${row.subscription_name}`))
  for (const [key, subscription] of byKey) {
    if (stored.has(key)) continue
    const head = await streamHead(sql, subscription.streamId)
    listed.push(
      describe(
        { stream_uuid: subscription.streamId, subscription_name: subscription.name, last_seen: 0, head, backend_pid: null, application_name: null, client_addr: null, store_tag: null },
        subscription,
        storeTag,
        now,
      ),
    )
  }
  await Promise.all(listed.map((status) => lagInSeconds(sql, status, now)))
  return listed
}

function describe(row: SubscriptionRow, local: LocalSubscription | null, storeTag: number, now: number): SubscriptionStatus {
  const actor = local?.actor ?? null
  const checkpoint = actor ? actor.acknowledged : row.last_seen
  const runsHere = actor !== null && (actor.status === 'loading' || actor.status === 'running')
  // A standby here sees the holder elsewhere.
  const holder = runsHere ? { host: thisHost, pid: process.pid, store: storeName(storeTag) } : row.backend_pid !== null ? parseHolder(row.application_name, row.client_addr, row.store_tag) : null
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
  const createdAt = await firstEventAfter(sql, status.streamId, status.checkpoint)
  if (createdAt) status.lag.seconds = Math.max(0, (now - createdAt.getTime()) / 1000)
}
