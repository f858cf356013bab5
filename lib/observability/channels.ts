// The store's node:diagnostics_channel TracingChannels, named like undici's and mysql2's:
// `pg-eventstore:<operation>`, with the start/end/asyncStart/asyncEnd/error sub-channels a
// TracingChannel has. A call is traced only while someone subscribes, so an untraced store
// pays one property read per call. The OpenTelemetry bridge (otel.ts) listens here too.
import { tracingChannel } from 'node:diagnostics_channel'
import type { RecordedEvent } from '../types.js'

/** What every message carries; the store adds `result` or `error` when the call settles. */
interface Traced {
  /** The store's schema: several stores may share a process. */
  schema: string
  result?: unknown
  error?: unknown
  /** Set by a start subscriber (the OpenTelemetry bridge) to stamp appended events' metadata. */
  traceparent?: string
  /** Set by a start subscriber to run the call inside its context (its span active). */
  run?: <T>(work: () => T) => T
}

export interface AppendMessage extends Traced {
  streamId: string
  expectedVersion: unknown
  eventCount: number
}

export interface LinkMessage extends Traced {
  streamId: string
  expectedVersion: unknown
  eventCount: number
}

export interface ReadMessage extends Traced {
  /** `$all` or a stream id. */
  streamId: string
  direction: 'forward' | 'backward'
  start: number
  count: number
  /** The events read, once the read succeeded. */
  result?: RecordedEvent[]
}

export interface DeleteMessage extends Traced {
  streamId: string
  expectedVersion: unknown
  mode: 'soft' | 'hard'
}

export interface DeliveryMessage extends Traced {
  /** The subscription's stream (`$all` or a stream id) and name. */
  streamId: string
  subscription: string
  /** The events handed to the subscriber, decoded (before its mapper). */
  events: RecordedEvent[]
}

export const channels = {
  append: tracingChannel<object, AppendMessage>('pg-eventstore:append'),
  link: tracingChannel<object, LinkMessage>('pg-eventstore:link'),
  read: tracingChannel<object, ReadMessage>('pg-eventstore:read'),
  delete: tracingChannel<object, DeleteMessage>('pg-eventstore:delete'),
  delivery: tracingChannel<object, DeliveryMessage>('pg-eventstore:delivery'),
}

type Channel<M extends object> = ReturnType<typeof tracingChannel<object, M>>

/** Runs `work`, traced on `channel` when anyone listens; `message()` is built only then. */
export function traced<M extends Traced, T>(channel: Channel<M>, message: () => M, work: (message: M | null) => Promise<T>): Promise<T> {
  if (!channel.hasSubscribers) return work(null)
  const context = message()
  return channel.tracePromise(() => (context.run ? context.run(() => work(context)) : work(context)), context)
}
