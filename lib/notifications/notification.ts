// What a store hears on channel "<schema>.events" (the payload is written by
// lib/storage/notifications.ts): which positions and streams a write touched, and whether its
// store's own subscriptions were handed the events already.
import { randomBytes } from 'node:crypto'

/** The channel a store's writes notify and its listener listens on. */
export const eventsChannel = (schema: string): string => `${schema}.events`

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
