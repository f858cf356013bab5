// One LISTEN connection per store (on its session url), on channel "<schema>.events". A notification is only a
// wake-up: NOTIFYs sent while the connection was down are lost, so every (re)listen wakes
// every subscription to catch up from where it is, at once. A slow poll of the last $all
// position covers set-ups where notifications never arrive (e.g. some poolers).
import type { Report } from '../reports.js'
import type { Sql } from '../storage/database.js'
import { listenTo } from '../storage/notifications.js'
import { streamHead } from '../storage/subscriptions.js'
import { eventsChannel, type Notification, parseNotification, wakeEveryone } from './notification.js'

export const POLL_MS = 2000

export class Listener {
  /** Where the position poll runs. */
  readonly #sql: Sql
  /** Where LISTEN runs: a connection that keeps its session. */
  readonly #listenOn: Sql
  readonly #channel: string
  readonly #onNotify: (notification: Notification) => void
  #unlisten: (() => Promise<void>) | null = null
  #poll: NodeJS.Timeout | null = null
  /** Highest position a notification or poll has reported. */
  #lastSeen = 0
  readonly #report: Report
  /** The last poll failed: the next failure is not told again, a success is. */
  #unreachable = false

  constructor(sql: Sql, listenOn: Sql, schema: string, onNotify: (notification: Notification) => void, report: Report = () => {}) {
    this.#sql = sql
    this.#listenOn = listenOn
    this.#channel = eventsChannel(schema)
    this.#onNotify = onNotify
    this.#report = report
  }

  async start(): Promise<void> {
    this.#lastSeen = await streamHead(this.#sql, '$all')
    this.#unlisten = await listenTo(
      this.#listenOn,
      this.#channel,
      (payload) => this.#deliver(parseNotification(payload)),
      () => this.#deliver(wakeEveryone),
    )
    this.#poll = setInterval(() => void this.#pollOnce(), POLL_MS)
    this.#poll.unref()
  }

  async stop(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll)
    this.#poll = null
    await this.#unlisten?.().catch((error: unknown) => this.#report('warning', 'listener', 'UNLISTEN failed', error))
    this.#unlisten = null
  }

  #deliver(notification: Notification): void {
    if (notification.last !== null) this.#lastSeen = Math.max(this.#lastSeen, notification.last)
    this.#onNotify(notification)
  }

  async #pollOnce(): Promise<void> {
    try {
      const last = await streamHead(this.#sql, '$all')
      if (this.#unreachable) this.#report('warning', 'listener', 'PostgreSQL answers the position poll again')
      this.#unreachable = false
      if (last > this.#lastSeen) this.#deliver({ last, streams: null, origin: null })
    } catch (error) {
      // The next poll tries again; an outage is told once.
      if (!this.#unreachable) this.#report('warning', 'listener', 'the position poll failed; retrying every 2 s', error)
      this.#unreachable = true
    }
  }
}
