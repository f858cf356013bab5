// The NOTIFY payload the writer sends with every write, on channel "<schema>.events":
// {"first", "last", "streams", "origin"}: the $all positions written (null for links alone),
// the streams written (null when too many for one payload), and the writing store's origin
// when its own subscriptions were handed the events (lib/subscriptions/hand_off.ts).
import { randomBytes } from 'node:crypto'

/** The channel a store's writes notify and its listener listens on. */
export const eventsChannel = (schema: string): string => `${schema}.events`

/** Where a writer's notifications go, and the origin it signs them with. */
export interface NotifyTarget {
  channel: string
  origin: string
}

/** An origin for one store instance: 64 random bits, so two processes never share one. */
export const newOrigin = (): string => randomBytes(8).toString('hex')

export interface Notification {
  /** Last global position written; null for links, or when unknown (a re-listen, a poll). */
  last: number | null
  /** Streams written; null when unknown: every subscription should check. */
  streams: string[] | null
  /** The store whose writer already handed these events to its own subscriptions; else null. */
  origin: string | null
}

/** Everyone should look: after a reconnect, a poll, or a payload we cannot read. */
export const wakeEveryone: Notification = { last: null, streams: null, origin: null }

export function parseNotification(payload: string): Notification {
  try {
    const parsed = JSON.parse(payload) as { last?: unknown; streams?: unknown; origin?: unknown }
    const last = typeof parsed.last === 'number' ? parsed.last : null
    const streams = Array.isArray(parsed.streams) && parsed.streams.every((s) => typeof s === 'string') ? parsed.streams : null
    const origin = typeof parsed.origin === 'string' ? parsed.origin : null
    return { last, streams, origin }
  } catch {
    return wakeEveryone
  }
}

/** Whether a subscription to `streamId` (or `$all`) has anything to look at. */
export function concerns(notification: Notification, streamId: string): boolean {
  if (notification.streams === null) return true
  if (streamId === '$all') return notification.last !== null
  return notification.streams.includes(streamId)
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
