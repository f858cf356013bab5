// One LISTEN connection per store, on channel "<schema>.events". A notification is only a
// wake-up: NOTIFYs sent while the connection was down are lost, so every (re)listen wakes
// every subscription to catch up from where it is, at once. A slow poll of the last $all
// position covers set-ups where notifications never arrive (e.g. some poolers).
import type { Sql } from '../storage/database.js'
import { statements } from '../storage/statements.js'
import { eventsChannel, type Notification, parseNotification, wakeEveryone } from './notification.js'

export const POLL_MS = 2000

export class Listener {
  readonly #sql: Sql
  readonly #channel: string
  readonly #onNotify: (notification: Notification) => void
  #unlisten: (() => Promise<void>) | null = null
  #poll: NodeJS.Timeout | null = null
  /** Highest position a notification or poll has reported. */
  #lastSeen = 0

  constructor(sql: Sql, schema: string, onNotify: (notification: Notification) => void) {
    this.#sql = sql
    this.#channel = eventsChannel(schema)
    this.#onNotify = onNotify
  }

  async start(): Promise<void> {
    const [row] = await this.#sql.unsafe<{ stream_version: number }[]>(statements.last_position, ['$all'])
    this.#lastSeen = row?.stream_version ?? 0
    const { unlisten } = await this.#sql.listen(
      this.#channel,
      (payload) => this.#deliver(parseNotification(payload)),
      () => this.#deliver(wakeEveryone),
    )
    this.#unlisten = unlisten
    this.#poll = setInterval(() => void this.#pollOnce(), POLL_MS)
    this.#poll.unref()
  }

  async stop(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll)
    this.#poll = null
    await this.#unlisten?.().catch(() => {})
    this.#unlisten = null
  }

  #deliver(notification: Notification): void {
    if (notification.last !== null) this.#lastSeen = Math.max(this.#lastSeen, notification.last)
    this.#onNotify(notification)
  }

  async #pollOnce(): Promise<void> {
    try {
      const [row] = await this.#sql.unsafe<{ stream_version: number }[]>(statements.last_position, ['$all'])
      const last = row?.stream_version ?? 0
      if (last > this.#lastSeen) this.#deliver({ last, streams: null, origin: null })
    } catch {
      // The database is unreachable; the next poll tries again.
    }
  }
}
