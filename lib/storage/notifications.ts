// The NOTIFY a write sends and the LISTEN that hears it, on channel "<schema>.events". The
// payload is {"first", "last", "streams", "origin"}: the $all positions written (null for
// links alone), the streams written (null when too many for one payload), and the writing
// store's origin when its own subscriptions were handed the events
// (lib/subscriptions/hand_off.ts). Read back by lib/notifications/notification.ts.
import type { Sql } from './database.js'

/** Where a writer's notifications go, and the origin it signs them with. */
export interface NotifyTarget {
  channel: string
  origin: string
}

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900
/** Room for the rest of the payload around the streams. */
const POSITIONS_BYTES = 120

export function notificationPayload(first: number | null, last: number | null, streams: readonly string[], origin: string | null): string {
  return `{"first":${first},"last":${last},"streams":${streamsJson(streams)},"origin":${origin === null ? 'null' : `"${origin}"`}}`
}

/** The streams of a payload as JSON; null (everyone checks) when they would not fit. */
export function streamsJson(streams: readonly string[]): string {
  const json = JSON.stringify(streams)
  return Buffer.byteLength(json) + POSITIONS_BYTES > MAX_PAYLOAD_BYTES ? 'null' : json
}

/**
 * Listens on `channel` over the pool's listening connection: `onPayload` gets each payload,
 * `onListen` runs at every (re)listen. Resolves to what stops listening.
 */
export async function listenTo(sql: Sql, channel: string, onPayload: (payload: string) => void, onListen: () => void): Promise<() => Promise<void>> {
  const { unlisten } = await sql.listen(channel, onPayload, onListen)
  return unlisten
}
