// The OpenTelemetry bridge, checked with the SDK's in-memory exporters: spans for appends,
// reads and deliveries; the append's traceparent in its events' metadata; a delivery span
// linked to the append that wrote its events; the store's metrics.
import * as api from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type HistogramMetricData, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { Changes } from '../helpers/changes.js'
import { freshStoreConfig, startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox } from '../helpers/inbox.js'
import { spawnScript } from '../helpers/processes.js'

/** A reader the test collects from when it wants. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** Told of every finished span. */
const exported = new Changes()
class AwaitedExporter extends InMemorySpanExporter {
  override export(...args: Parameters<InMemorySpanExporter['export']>): void {
    super.export(...args)
    exported.notify()
  }
}

const spans = new AwaitedExporter()
const contextManager = new AsyncLocalStorageContextManager().enable()
api.context.setGlobalContextManager(contextManager)
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
api.trace.setGlobalTracerProvider(tracerProvider)
const reader = new TestReader()
api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
t.teardown(async () => {
  await tracerProvider.shutdown()
  api.trace.disable()
  api.metrics.disable()
  api.context.disable()
})
t.beforeEach(() => spans.reset())

const tracer = api.trace.getTracer('test')

function spansNamed(name: string) {
  return spans.getFinishedSpans().filter((span) => span.name === `pg-eventstore ${name}`)
}

async function collect(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect()
  return resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'pg-eventstore').flatMap((scope) => scope.metrics)
}

function pointsOf(metrics: MetricData[], name: string, schema: string) {
  return (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []).filter((p) => p.attributes['pg_eventstore.schema'] === schema)
}

t.test("an append inside a span is its child, and its events carry the append span's traceparent", async (t) => {
  const store = await startStore(t)
  const request = await tracer.startActiveSpan('request', async (span) => {
    await store.appendToStream('order-1', 'no_stream', makeEvents(2))
    span.end()
    return span.spanContext()
  })
  const [append] = spansNamed('append')
  t.ok(append, 'an append span')
  t.equal(append?.spanContext().traceId, request.traceId, 'in the caller trace')
  t.equal(append?.parentSpanContext?.spanId, request.spanId, 'a child of the caller span')
  t.match(append?.attributes, { 'db.system.name': 'postgresql', 'db.operation.name': 'append', 'db.namespace': store.config.schema, 'pg_eventstore.stream_id': 'order-1', 'pg_eventstore.event_count': 2 })
  t.equal(append?.kind, api.SpanKind.PRODUCER)
  const events = await store.readStreamForward('order-1')
  const expected = `00-${append?.spanContext().traceId}-${append?.spanContext().spanId}-01`
  t.same(events.map((e) => e.metadata.$traceparent), [expected, expected], 'each event names the append span')
  const [read] = spansNamed('read')
  t.match(read?.attributes, { 'pg_eventstore.stream_id': 'order-1', 'db.response.returned_rows': 2 })
})

t.test('an append outside any trace has its span but leaves metadata alone', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('untraced', 0, makeEvents(1))
  t.equal(spansNamed('append').length, 1, 'a root span')
  t.equal((await store.readStreamForward('untraced'))[0]?.metadata.$traceparent, undefined)
})

t.test('a failed append ends its span with an error status and the error code', async (t) => {
  const store = await startStore(t)
  await t.rejects(store.appendToStream('s', 5, makeEvents(1)), { code: 'wrong_expected_version' })
  const [append] = spansNamed('append')
  t.equal(append?.status.code, api.SpanStatusCode.ERROR)
  t.equal(append?.attributes['error.type'], 'wrong_expected_version')
  t.ok(append?.events.some((e) => e.name === 'exception'), 'the exception is recorded')
})

t.test('recordTraceContext: false leaves metadata alone; a traceparent the caller set is kept', async (t) => {
  const store = await startStore(t, { recordTraceContext: false })
  await tracer.startActiveSpan('request', async (span) => {
    await store.appendToStream('plain', 0, makeEvents(1))
    span.end()
  })
  const [event] = await store.readStreamForward('plain')
  t.equal(event?.metadata.$traceparent, undefined)
  t.equal(spansNamed('append').length, 1, 'the span is still made')
  const mine = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`
  const other = await startStore(t)
  await tracer.startActiveSpan('request', async (span) => {
    await other.appendToStream('given', 0, [{ eventType: 'E', data: {}, metadata: { $traceparent: mine } }])
    span.end()
  })
  t.equal((await other.readStreamForward('given'))[0]?.metadata.$traceparent, mine)
})

t.test('a delivery span links to the appends of its events, written by another store', async (t) => {
  const config = await freshStoreConfig(t)
  const writer = await EventStore.start(config)
  t.teardown(() => writer.stop())
  const reader = await EventStore.start(config)
  t.teardown(() => reader.stop())
  const inbox = new Inbox({ autoAck: true })
  const seenInside: string[] = []
  inbox.onEvents = () => {
    seenInside.push(api.trace.getActiveSpan()?.spanContext().spanId ?? 'none')
  }
  await reader.subscribeToAllStreams('projector', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  for (const stream of ['a', 'b']) {
    await tracer.startActiveSpan(`command ${stream}`, async (span) => {
      await writer.appendToStream(stream, 0, makeEvents(1))
      span.end()
    })
  }
  await inbox.receiveEvents(2)
  // A delivery span ends once its subscriber returned, just after the inbox recorded the batch.
  await exported.until(() => spansNamed('deliver').length >= seenInside.length, { what: 'a span for each delivery' })
  const appends = spansNamed('append')
  const deliveries = spansNamed('deliver')
  t.equal(appends.length, 2)
  const linked = deliveries.flatMap((span) => span.links.map((link) => link.context.spanId))
  t.same(new Set(linked), new Set(appends.map((span) => span.spanContext().spanId)), 'every append span is linked from a delivery')
  t.equal(deliveries[0]?.kind, api.SpanKind.CONSUMER)
  t.match(deliveries[0]?.attributes, { 'pg_eventstore.subscription': 'projector', 'pg_eventstore.stream_id': '$all' })
  t.same(seenInside, deliveries.map((span) => span.spanContext().spanId), 'the subscriber runs inside its delivery span')
})

t.test('a trace crosses processes: the delivery here links to the append span of another process', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('elsewhere-projector', inbox.subscriber)
  await inbox.receive('subscribed')
  const child = spawnScript(t, 'fixtures/traced_appender.ts', { URL: config.url, SCHEMA: config.schema })
  const printed = JSON.parse(await child.waitFor((line) => line.startsWith('{'))) as { traceId: string; spanId: string }
  t.match(printed, { traceId: /^[0-9a-f]{32}$/, spanId: /^[0-9a-f]{16}$/ })
  const [event] = await inbox.receiveEvents(1)
  t.equal(event?.metadata.$traceparent, `00-${printed.traceId}-${printed.spanId}-01`, 'the event carries the other process span')
  await exported.until(() => spansNamed('deliver').length > 0, { what: 'a delivery span' })
  const links = spansNamed('deliver').flatMap((span) => span.links.map((link) => link.context))
  t.match(links, [{ traceId: printed.traceId, spanId: printed.spanId, isRemote: true }])
})

t.test('metrics: counters, histograms and gauges, with the store schema as attribute', async (t) => {
  const store = await startStore(t)
  const schema = store.config.schema
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendToStream(`m-${i}`, 0, makeEvents(3))))
  await store.readAllStreamsForward(0, 5)
  const inbox = new Inbox()
  await store.subscribeToAllStreams('lagging', inbox.subscriber, { bufferSize: 5 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(1)
  const metrics = await collect()
  const value = (name: string) => (pointsOf(metrics, name, schema)[0]?.value as number | undefined) ?? null
  t.equal(value('pg_eventstore.appends'), 10)
  t.equal(value('pg_eventstore.events.appended'), 30)
  t.equal(value('pg_eventstore.events.read'), 5)
  t.equal(value('pg_eventstore.writer.queue.depth'), 0)
  const utilization = value('pg_eventstore.workers.utilization')
  t.ok(utilization !== null && utilization >= 0 && utilization <= 1)
  const commit = metrics.find((m) => m.descriptor.name === 'pg_eventstore.writer.commit.duration') as HistogramMetricData | undefined
  t.equal(commit?.descriptor.unit, 's')
  const commitPoint = commit?.dataPoints.find((p) => p.attributes['pg_eventstore.schema'] === schema)
  t.ok(commitPoint && commitPoint.value.count >= 1 && (commitPoint.value.sum ?? 0) > 0, 'commit latencies recorded')
  const batch = metrics.find((m) => m.descriptor.name === 'pg_eventstore.writer.batch.size') as HistogramMetricData | undefined
  t.equal(batch?.dataPoints.find((p) => p.attributes['pg_eventstore.schema'] === schema)?.value.sum, 10, 'every append counted in a batch')
  const lag = pointsOf(metrics, 'pg_eventstore.subscription.lag.events', schema).find((p) => p.attributes['pg_eventstore.subscription.name'] === 'lagging')
  t.ok(lag && (lag.value as number) > 0, 'the unacknowledging subscription lags')
  t.ok(pointsOf(metrics, 'pg_eventstore.subscription.lag.seconds', schema).length > 0)
})

