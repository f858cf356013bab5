// A write and subscription load that keeps a log of every append's intent (its event ids) and
// outcome, and afterwards checks the log against the database: every resolved append is
// stored whole, every append refused with a known outcome is not stored at all, $all has no
// gap, and every subscription got every event. Shared by the fault tests and `npm run soak`.
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import type { Test } from 'tap'
import type { EventStore } from '../../lib/event_store.js'
import type { StoreReport } from '../../lib/reports.js'
import type { ExpectedVersion } from '../../lib/types.js'
import { Changes } from './changes.js'
import { within } from './settles.js'

/** How long one call may take before the load counts it as hung. */
export const CALL_BOUND_MS = 30_000

interface Intent {
  streamId: string
  eventIds: string[]
  /** 'ok', an error code, or 'connection:unknown' / 'connection:not_committed'. */
  outcome: string | null
  settledAt: number
}

export interface LoadOptions {
  writers: number
  subscriptions: number
  eventsPerAppend?: number
}

export interface LoadReport {
  appends: number
  resolved: number
  refused: Record<string, number>
  /** Resolved appends missing from the database, or partly stored. */
  lost: number
  /** Appends refused with a known outcome whose events are stored anyway. */
  misreported: number
  /** Calls that did not settle within CALL_BOUND_MS. */
  hung: number
  /** Global positions missing from 1..last. */
  gaps: number
  /** Per subscription: events of $all it never received. */
  missingPerSubscription: number[]
  deliveredPerSubscription: number[]
  /** Per subscription: the first positions it never received, to tell a stall from a skip. */
  firstMissing: number[][]
  warnings: number
  errors: number
}

export class FaultLoad {
  readonly #store: EventStore
  readonly #options: Required<LoadOptions>
  readonly #intents: Intent[] = []
  readonly #received: Set<string>[] = []
  readonly #writers: Promise<void>[] = []
  #running = false
  #reports = { warning: 0, error: 0 }
  readonly #prefix = randomUUID().slice(0, 8)
  /** Told of every settled append and every delivery. */
  readonly #changes = new Changes()

  constructor(store: EventStore, options: LoadOptions) {
    this.#store = store
    this.#options = { eventsPerAppend: 3, ...options }
    store.on('warning', () => (this.#reports.warning += 1))
    store.on('error', (_report: StoreReport) => (this.#reports.error += 1))
  }

  /** Subscribes (each with its own name) and starts the writers. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#options.subscriptions; i += 1) {
      const received = new Set<string>()
      this.#received.push(received)
      await this.#store.subscribeToAllStreams(`load-${this.#prefix}-${i}`, (message) => {
        if (message.type !== 'events') return
        for (const event of message.events) received.add(event.eventId)
        message.subscription.ack(message.events)
        this.#changes.notify()
      }, { bufferSize: 50 })
    }
    this.#running = true
    for (let w = 0; w < this.#options.writers; w += 1) this.#writers.push(this.#write(`${this.#prefix}-w${w}`, w % 2 === 0))
  }

  /** Stops the writers once their append in flight settles. */
  async stop(): Promise<void> {
    this.#running = false
    await Promise.all(this.#writers)
  }

  /** The time from `since` to the first append that resolved after it, in ms; null if none did. */
  firstSuccessAfter(since: number): number | null {
    const first = this.#intents.filter((i) => i.outcome === 'ok' && i.settledAt >= since).reduce((min, i) => Math.min(min, i.settledAt), Number.POSITIVE_INFINITY)
    return first === Number.POSITIVE_INFINITY ? null : first - since
  }

  get resolvedCount(): number {
    return this.#intents.filter((i) => i.outcome === 'ok').length
  }

  /** Resolves once `count` more appends than now have resolved; false if they have not within `within` ms. */
  async resolved(count: number, within = 10_000): Promise<boolean> {
    const target = this.resolvedCount + count
    return this.#changes.until(() => this.resolvedCount >= target, { within }).then(() => true, () => false)
  }

  /** Resolves once an append resolved at or after `since`; false if none has within `within` ms. */
  async succeededAfter(since: number, within = 10_000): Promise<boolean> {
    return this.#changes.until(() => this.firstSuccessAfter(since) !== null, { within }).then(() => true, () => false)
  }

  /** One writer: appends to its own stream, with exact versions (resynchronised after a failure) or 'any_version'. */
  async #write(streamId: string, exact: boolean): Promise<void> {
    let version: number | null = 0
    while (this.#running) {
      if (exact && version === null) {
        version = await this.#store.streamInfo(streamId).then(
          (info) => info.streamVersion,
          (error: { code?: string }) => (error.code === 'stream_not_found' ? 0 : null),
        )
        if (version === null) {
          await new Promise((resolve) => setTimeout(resolve, 50))
          continue
        }
      }
      const eventIds = Array.from({ length: this.#options.eventsPerAppend }, () => randomUUID())
      const intent: Intent = { streamId, eventIds, outcome: null, settledAt: 0 }
      this.#intents.push(intent)
      const expected: ExpectedVersion = exact ? (version as number) : 'any_version'
      const events = eventIds.map((eventId, i) => ({ eventId, eventType: 'Loaded', data: { i } }))
      let timer: NodeJS.Timeout | undefined
      const hung = new Promise<'hung'>((resolve) => {
        timer = setTimeout(resolve, CALL_BOUND_MS, 'hung')
      })
      const outcome = await Promise.race([
        this.#store.appendToStream(streamId, expected, events).then(
          () => 'ok',
          (error: { code?: string; details?: { outcome?: string } }) => (error.details?.outcome ? `${error.code}:${error.details.outcome}` : (error.code ?? 'raw')),
        ),
        hung,
      ])
      clearTimeout(timer)
      intent.outcome = outcome
      intent.settledAt = Date.now()
      this.#changes.notify()
      if (outcome === 'hung') return
      if (outcome === 'ok') {
        if (version !== null) version += eventIds.length
      } else {
        version = null
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }

  /** Checks the log against the database (read through a connection of its own), waiting up to `settleMs` for subscriptions to catch up. */
  async check(url: string, schema: string, settleMs = 20_000): Promise<LoadReport> {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
    try {
      const rows = await sql<{ event_id: string; global_position: string }[]>`SELECT event_id::text, global_position::text FROM events`
      const stored = new Set(rows.map((r) => r.event_id))
      const positions = rows.map((r) => Number(r.global_position)).sort((a, b) => a - b)
      const last = positions.at(-1) ?? 0
      const refused: Record<string, number> = {}
      let lost = 0
      let misreported = 0
      let hung = 0
      for (const intent of this.#intents) {
        const present = intent.eventIds.filter((id) => stored.has(id)).length
        if (intent.outcome === 'hung' || intent.outcome === null) hung += 1
        else if (intent.outcome === 'ok') {
          if (present !== intent.eventIds.length) lost += 1
        } else {
          refused[intent.outcome] = (refused[intent.outcome] ?? 0) + 1
          // Partly stored is never allowed; stored at all only when the outcome is unknown.
          if (present > 0 && (present < intent.eventIds.length || intent.outcome !== 'connection:unknown')) misreported += 1
        }
      }
      const missing = () => this.#received.map((received) => rows.filter((r) => !received.has(r.event_id)).length)
      // Checked on every delivery, so in constant time: a subscription delivers stored events only.
      await this.#changes.until(() => this.#received.every((received) => received.size >= rows.length), { within: settleMs }).catch(() => {})
      return {
        appends: this.#intents.length,
        resolved: this.resolvedCount,
        refused,
        lost,
        misreported,
        hung,
        gaps: last - positions.length,
        missingPerSubscription: missing(),
        firstMissing: this.#received.map((received) => rows.filter((r) => !received.has(r.event_id)).map((r) => Number(r.global_position)).sort((a, b) => a - b).slice(0, 3)),
        deliveredPerSubscription: this.#received.map((received) => received.size),
        warnings: this.#reports.warning,
        errors: this.#reports.error,
      }
    } finally {
      await sql.end({ timeout: 1 })
    }
  }
}

/** Records uncaught exceptions and unhandled rejections while a fault test runs. */
export function watchForCrashes(): { count: () => number; messages: string[]; stop: () => void } {
  const messages: string[] = []
  const onError = (error: unknown) => messages.push(String((error as Error)?.stack ?? error))
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onError)
  return {
    count: () => messages.length,
    messages,
    stop: () => {
      process.off('uncaughtException', onError)
      process.off('unhandledRejection', onError)
    },
  }
}

/** The promises every fault test checks: nothing lost, nothing misreported, no hung call, no gap, every event delivered. */
export function assertNothingLost(t: Test, report: LoadReport): void {
  t.ok(report.resolved > 100, `${report.resolved} appends resolved`)
  t.equal(report.lost, 0, 'no acknowledged append lost or partly stored')
  t.equal(report.misreported, 0, 'no refused append stored')
  t.equal(report.hung, 0, 'every call settled')
  t.equal(report.gaps, 0, '$all has no gap')
  t.same(report.missingPerSubscription, report.missingPerSubscription.map(() => 0), 'every subscription received every event')
}

/** The store stops within a bound, and nothing escaped as an uncaught exception meanwhile. */
export async function assertStopsCleanly(t: Test, store: EventStore, crashes: ReturnType<typeof watchForCrashes>): Promise<void> {
  t.not(await within(store.stop(), 30_000), 'hung', 'stop() resolves')
  t.equal(crashes.count(), 0, `no uncaught exception or unhandled rejection ${crashes.messages.join('\n')}`)
}
