// `pg-eventstore status [--watch]` and `pg-eventstore events <stream|$all> [--from N] [--follow]`:
// what an operator looks at from a shell. Tables on a terminal, JSON lines otherwise.
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventStoreConfig } from '../config.js'
import { EventStore } from '../event_store.js'
import type { SubscriptionStatus } from '../observability/status.js'
import { holderName } from '../storage/holder.js'
import { ALL_STREAM, type RecordedEvent } from '../types.js'
import type { Output } from './output.js'
import { Progress } from './progress.js'


const WATCH_EVERY_MS = 2000
const PAGE = 1000

/** Resolves on Ctrl-C or SIGTERM, or when `closed` aborts: how a watching or following command ends. */
export function interrupted(closed?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      closed?.removeEventListener('abort', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    if (closed?.aborted) stop()
    else closed?.addEventListener('abort', stop, { once: true })
  })
}

/** A store that only looks: one worker, few connections. */
function lookingStore(config: EventStoreConfig): Promise<EventStore> {
  return EventStore.start({ ...config, workers: 1, poolSize: 2, openTelemetry: false })
}

export async function statusCommand(config: EventStoreConfig, watch: boolean, out: Output): Promise<void> {
  const store = await lookingStore(config)
  try {
    const show = async () => out.write(`${out.isTTY && watch ? '\x1b[2J\x1b[H' : ''}${subscriptionTable((await store.status()).subscriptions, out.isTTY)}\n`)
    await show()
    if (!watch) return
    const stop = interrupted(out.closed)
    let stopped = false
    void stop.then(() => {
      stopped = true
    })
    while (!stopped) {
      await Promise.race([sleep(WATCH_EVERY_MS), stop])
      if (!stopped) await show()
    }
  } finally {
    await store.stop()
  }
}

/** The subscriptions as a table (terminal) or one JSON object per line. */
export function subscriptionTable(subscriptions: SubscriptionStatus[], tty: boolean): string {
  if (!tty) return subscriptions.map((s) => JSON.stringify(s)).join('\n')
  if (subscriptions.length === 0) return 'no subscriptions'
  const rows = subscriptions.map((s) => [
    s.name,
    s.streamId,
    s.state,
    String(s.checkpoint),
    String(s.head),
    String(s.lag.events),
    `${s.lag.seconds.toFixed(1)} s`,
    s.holder ? holderName(s.holder) : '-',
    s.subscribers === null ? '-' : String(s.subscribers),
  ])
  return table(['NAME', 'STREAM', 'STATE', 'CHECKPOINT', 'HEAD', 'LAG', 'LAG TIME', 'HOLDER', 'SUBSCRIBERS'], rows)
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export interface EventsOptions {
  from: number
  follow: boolean
}

/**
 * Prints the events of a stream (or `$all`) from a position on; with `follow`, then every new
 * one as it is appended, until interrupted. The live subscription starts before the history
 * is read, and events it brings that the history already printed are skipped: none is lost
 * between the two, none is printed twice.
 */
export async function eventsCommand(config: EventStoreConfig, streamId: string, options: EventsOptions, out: Output, progressTo: Output): Promise<void> {
  const store = await lookingStore(config)
  try {
    let printed = options.from > 0 ? options.from - 1 : 0
    const print = (event: RecordedEvent) => {
      if (event.eventNumber <= printed) return
      printed = event.eventNumber
      out.write(`${formatEvent(event, out.isTTY)}\n`)
    }
    const live: RecordedEvent[] = []
    let historyDone = false
    const unsubscribe = options.follow
      ? await store.subscribe(streamId, (event) => {
          // Once the reader has gone, the follow is ending: nothing more to print.
          if (historyDone && !out.closed?.aborted) print(event as RecordedEvent)
          else live.push(event as RecordedEvent)
        })
      : null
    try {
      const head = streamId === ALL_STREAM ? ((await store.readAllStreamsBackward(-1, 1))[0]?.eventNumber ?? 0) : (await store.streamInfo(streamId)).streamVersion
      // The terminal shows the events themselves; a count helps only when they go elsewhere.
      const progress = new Progress(progressTo.isTTY && !out.isTTY ? progressTo : null, 'events', Math.max(0, head - printed))
      for (let next = Math.max(1, options.from); ; ) {
        const page = streamId === ALL_STREAM ? await store.readAllStreamsForward(next, PAGE) : await store.readStreamForward(streamId, next, PAGE)
        for (const event of page) print(event)
        progress.advance(page.length)
        const last = page.at(-1)
        if (page.length < PAGE || !last) break
        next = last.eventNumber + 1
      }
      progress.done()
      historyDone = true
      for (const event of live.splice(0)) print(event)
      if (unsubscribe) await interrupted(out.closed)
    } finally {
      await unsubscribe?.()
    }
  } finally {
    await store.stop()
  }
}

/** One event: a JSON line, or a readable block on a terminal (data and metadata pretty-printed). */
export function formatEvent(event: RecordedEvent, tty: boolean): string {
  if (!tty) return JSON.stringify(event)
  const indent = (value: unknown) => JSON.stringify(value, null, 2).replace(/\n/g, '\n    ')
  return [
    `#${event.eventNumber}  ${event.eventType}  ${event.streamId}@${event.streamVersion}  ${event.createdAt.toISOString()}  ${event.eventId}`,
    `  data:     ${indent(event.data)}`,
    `  metadata: ${indent(event.metadata)}`,
  ].join('\n')
}

