// The NOTIFY payload of sql/migrations/0002 (notify_events / notify_links).
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
