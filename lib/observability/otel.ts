// The OpenTelemetry bridge, used when the optional peer @opentelemetry/api is installed:
// spans from the store's tracing channels (channels.ts), metrics from its counters
// (metrics.ts) and status. Without the package, or without an SDK registered, nothing here
// records anything. Register the SDK before EventStore.start: meters are taken at start.
import type * as OpenTelemetry from '@opentelemetry/api'
import type { Attributes, BatchObservableResult, Histogram, Link, ObservableCounter, ObservableGauge, Span } from '@opentelemetry/api'
import type { RecordedEvent } from '../types.js'
import { type AppendMessage, channels, type DeleteMessage, type DeliveryMessage, type LinkMessage, type ReadMessage } from './channels.js'
import type { Counters, StoreMetrics } from './metrics.js'
import type { SubscriptionStatus } from './status.js'

type Api = typeof OpenTelemetry

const SCOPE = 'pg-eventstore'
/** Metadata key under which an append records the W3C traceparent of its span. */
export const TRACEPARENT_KEY = '$traceparent'
/** Links a delivery span carries at most, one per distinct appending span. */
const MAX_LINKS = 128

/** Loads @opentelemetry/api if it is installed; null when it is not. */
export async function loadOpenTelemetry(): Promise<Api | null> {
  try {
    return (await import('@opentelemetry/api')) as Api
  } catch {
    return null
  }
}

/** What the bridge reads of one store. */
export interface TelemetrySource {
  schema: string
  metrics: StoreMetrics
  queued(): number
  workerUtilization(): number
  /** This store's subscriptions (lag and checkpoint age are reported for those it runs). */
  subscriptions(): Promise<SubscriptionStatus[]>
}

/**
 * Starts reporting one store to the SDK registered now; returns what stops it. Without a
 * registered tracer provider the tracing channels keep no subscriber (they cost nothing),
 * without a meter provider no instrument is made.
 */
export function attachOpenTelemetry(api: Api, source: TelemetrySource): () => void {
  const provider = api.trace.getTracerProvider()
  const tracerRegistered = !(provider instanceof api.ProxyTracerProvider) || provider.getDelegateTracer(SCOPE) !== undefined
  const meterRegistered = !(api.metrics.getMeter(SCOPE) instanceof api.createNoopMeter().constructor)
  const detachSpans = tracerRegistered ? tracing.attach(api) : () => {}
  const detachMetrics = meterRegistered ? reportMetrics(api, source) : () => {}
  return () => {
    detachMetrics()
    detachSpans()
  }
}

// ---- Spans --------------------------------------------------------------------------------

type Message = (AppendMessage | LinkMessage | ReadMessage | DeleteMessage | DeliveryMessage) & { run?: <T>(work: () => T) => T }

/** The channels are per process, so their span handlers are too, shared by every store. */
const tracing = {
  stores: 0,
  detach: null as (() => void) | null,
  attach(api: Api): () => void {
    tracing.stores += 1
    tracing.detach ??= subscribeSpans(api)
    let attached = true
    return () => {
      if (!attached) return
      attached = false
      tracing.stores -= 1
      if (tracing.stores === 0) {
        tracing.detach?.()
        tracing.detach = null
      }
    }
  },
}

function subscribeSpans(api: Api): () => void {
  const tracer = api.trace.getTracer(SCOPE)
  const spans = new WeakMap<object, Span>()
  const { SpanKind, SpanStatusCode } = api
  const handlers = (name: string, kind: OpenTelemetry.SpanKind, attributes: (message: never) => Attributes, links?: (message: never) => Link[]) => ({
    start(message: Message) {
      const parent = api.context.active()
      const span = tracer.startSpan(`${SCOPE} ${name}`, { kind, attributes: { ...databaseAttributes(name, message.schema), ...attributes(message as never) }, links: links?.(message as never) }, parent)
      spans.set(message, span)
      const context = span.spanContext()
      // Only a call made inside a trace stamps its events: the bytes go to every event stored.
      if (api.trace.getSpan(parent) && api.trace.isSpanContextValid(context)) message.traceparent = `00-${context.traceId}-${context.spanId}-0${context.traceFlags & 1}`
      message.run = (work) => api.context.with(api.trace.setSpan(api.context.active(), span), work)
    },
    error(message: Message) {
      const span = spans.get(message)
      const error = message.error as Error & { code?: string }
      span?.recordException(error)
      span?.setStatus({ code: SpanStatusCode.ERROR, message: error?.message })
      if (error?.code) span?.setAttribute('error.type', error.code)
    },
    asyncEnd(message: Message) {
      const span = spans.get(message)
      if (!span) return
      if (name === 'read') span.setAttribute('db.response.returned_rows', (message as ReadMessage).result?.length ?? 0)
      span.end()
      spans.delete(message)
    },
  })
  const subscribed = [
    [channels.append, handlers('append', SpanKind.PRODUCER, (m: AppendMessage) => ({ 'pg_eventstore.stream_id': m.streamId, 'pg_eventstore.event_count': m.eventCount, 'pg_eventstore.expected_version': String(m.expectedVersion) }))],
    [channels.link, handlers('link', SpanKind.CLIENT, (m: LinkMessage) => ({ 'pg_eventstore.stream_id': m.streamId, 'pg_eventstore.event_count': m.eventCount }))],
    [channels.delete, handlers('delete', SpanKind.CLIENT, (m: DeleteMessage) => ({ 'pg_eventstore.stream_id': m.streamId, 'pg_eventstore.delete_mode': m.mode }))],
    [channels.read, handlers('read', SpanKind.CLIENT, (m: ReadMessage) => ({ 'pg_eventstore.stream_id': m.streamId, 'pg_eventstore.direction': m.direction, 'pg_eventstore.start': m.start, 'db.query.page_size': m.count }))],
    [
      channels.delivery,
      handlers(
        'deliver',
        SpanKind.CONSUMER,
        (m: DeliveryMessage) => ({ 'pg_eventstore.stream_id': m.streamId, 'pg_eventstore.subscription': m.subscription, 'messaging.batch.message_count': m.events.length }),
        (m: DeliveryMessage) => appendLinks(api, m.events),
      ),
    ],
  ] as const
  for (const [channel, handler] of subscribed) channel.subscribe(handler as never)
  return () => {
    for (const [channel, handler] of subscribed) channel.unsubscribe(handler as never)
  }
}

function databaseAttributes(operation: string, schema: string): Attributes {
  return { 'db.system.name': 'postgresql', 'db.namespace': schema, 'db.operation.name': operation }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** A link to the span of each distinct append that wrote these events (their metadata tells). */
function appendLinks(api: Api, events: RecordedEvent[]): Link[] {
  const links = new Map<string, Link>()
  for (const event of events) {
    const value = (event.metadata as Record<string, unknown> | null)?.[TRACEPARENT_KEY]
    const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null
    if (!match || links.has(value as string)) continue
    const context = { traceId: match[1] as string, spanId: match[2] as string, traceFlags: Number.parseInt(match[3] as string, 16), isRemote: true }
    if (!api.trace.isSpanContextValid(context)) continue
    links.set(value as string, { context, attributes: { 'pg_eventstore.event_number': event.eventNumber } })
    if (links.size >= MAX_LINKS) break
  }
  return [...links.values()]
}

// ---- Metrics ------------------------------------------------------------------------------

const COUNTERS: [keyof Counters, string, string, string][] = [
  ['appends', 'pg_eventstore.appends', '{append}', 'Appends committed'],
  ['eventsAppended', 'pg_eventstore.events.appended', '{event}', 'Events appended'],
  ['links', 'pg_eventstore.links', '{request}', 'Link requests committed'],
  ['deletes', 'pg_eventstore.deletes', '{request}', 'Stream deletes committed'],
  ['writeErrors', 'pg_eventstore.write.errors', '{request}', 'Write requests that failed'],
  ['reads', 'pg_eventstore.reads', '{read}', 'Reads (pages) served'],
  ['eventsRead', 'pg_eventstore.events.read', '{event}', 'Events read'],
  ['deliveries', 'pg_eventstore.deliveries', '{batch}', 'Batches handed to subscriber functions'],
  ['eventsDelivered', 'pg_eventstore.events.delivered', '{event}', 'Events handed to subscriber functions'],
  ['warnings', 'pg_eventstore.warnings', '{report}', "Warnings the store reported (see store.on('warning'))"],
  ['errors', 'pg_eventstore.errors', '{report}', "Errors the store reported (see store.on('error'))"],
]

function reportMetrics(api: Api, source: TelemetrySource): () => void {
  const meter = api.metrics.getMeter(SCOPE)
  const store = { 'pg_eventstore.schema': source.schema }
  const seconds = { unit: 's' }
  const batchSize: Histogram = meter.createHistogram('pg_eventstore.writer.batch.size', {
    unit: '{request}',
    description: 'Write requests per committed batch (group commit)',
    advice: { explicitBucketBoundaries: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
  })
  const commit: Histogram = meter.createHistogram('pg_eventstore.writer.commit.duration', { ...seconds, description: 'From a batch leaving the writer queue to its commit' })
  const read: Histogram = meter.createHistogram('pg_eventstore.read.duration', { ...seconds, description: 'From a read call to its decoded result' })
  source.metrics.sink = {
    batch(requests, ms) {
      batchSize.record(requests, store)
      commit.record(ms / 1000, store)
    },
    read(ms) {
      read.record(ms / 1000, store)
    },
  }
  const counters = COUNTERS.map(([key, name, unit, description]) => [key, meter.createObservableCounter(name, { unit, description })] as [keyof Counters, ObservableCounter])
  const queue: ObservableGauge = meter.createObservableGauge('pg_eventstore.writer.queue.depth', { unit: '{request}', description: 'Requests waiting in the writer queue' })
  const utilization: ObservableGauge = meter.createObservableGauge('pg_eventstore.workers.utilization', { unit: '1', description: 'Busy share of the reader worker threads' })
  const lagEvents: ObservableGauge = meter.createObservableGauge('pg_eventstore.subscription.lag.events', { unit: '{event}', description: 'Events between a subscription checkpoint and its stream head' })
  const lagSeconds: ObservableGauge = meter.createObservableGauge('pg_eventstore.subscription.lag.seconds', { ...seconds, description: 'Age of the oldest event a subscription has not acknowledged' })
  const checkpointAge: ObservableGauge = meter.createObservableGauge('pg_eventstore.subscription.checkpoint.age', { ...seconds, description: 'Time since a subscription last stored its checkpoint' })
  const observables = [...counters.map(([, counter]) => counter), queue, utilization, lagEvents, lagSeconds, checkpointAge]
  const observe = async (result: BatchObservableResult) => {
    for (const [key, counter] of counters) result.observe(counter, source.metrics.counters[key], store)
    result.observe(queue, source.queued(), store)
    result.observe(utilization, source.workerUtilization(), store)
    const subscriptions = await source.subscriptions().catch(() => [])
    for (const s of subscriptions) {
      if (!s.local || s.state === 'standby') continue
      const attributes = { ...store, 'pg_eventstore.subscription.name': s.name, 'pg_eventstore.subscription.stream': s.streamId }
      result.observe(lagEvents, s.lag.events, attributes)
      result.observe(lagSeconds, s.lag.seconds, attributes)
      if (s.checkpointAge !== null) result.observe(checkpointAge, s.checkpointAge, attributes)
    }
  }
  meter.addBatchObservableCallback(observe, observables)
  return () => {
    meter.removeBatchObservableCallback(observe, observables)
    source.metrics.sink = null
  }
}
