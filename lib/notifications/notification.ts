// The NOTIFY payload the writer sends with every write, on channel "<schema>.events":
// {"first", "last", "streams"}: the $all positions written (null for links alone) and the
// streams written (null when too many for one payload).
/** The channel a store's writes notify and its listener listens on. */
export const eventsChannel = (schema: string): string => `${schema}.events`

export interface Notification {
  /** Last global position written; null for links, or when unknown (a re-listen, a poll). */
  last: number | null
  /** Streams written; null when unknown: every subscription should check. */
  streams: string[] | null
}

/** Everyone should look: after a reconnect, a poll, or a payload we cannot read. */
export const wakeEveryone: Notification = { last: null, streams: null }

export function parseNotification(payload: string): Notification {
  try {
    const parsed = JSON.parse(payload) as { last?: unknown; streams?: unknown }
    const last = typeof parsed.last === 'number' ? parsed.last : null
    const streams = Array.isArray(parsed.streams) && parsed.streams.every((s) => typeof s === 'string') ? parsed.streams : null
    return { last, streams }
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
const POSITIONS_BYTES = 80

export function notificationPayload(first: number | null, last: number | null, streams: readonly string[]): string {
  return `{"first":${first},"last":${last},"streams":${streamsJson(streams)}}`
}

/** The streams of a payload as JSON; null (everyone checks) when they would not fit. */
export function streamsJson(streams: readonly string[]): string {
  const json = JSON.stringify(streams)
  return Buffer.byteLength(json) + POSITIONS_BYTES > MAX_PAYLOAD_BYTES ? 'null' : json
}
