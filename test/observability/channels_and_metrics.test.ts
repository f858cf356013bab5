// The tracing channels (pg-eventstore:append|link|read|delete|delivery) and store.metrics().
import { tracingChannel } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import type { RecordedEvent } from '../../lib/types.js'
import { Changes, Recorded } from '../helpers/changes.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox } from '../helpers/inbox.js'

type Heard = { phase: string; message: Record<string, unknown> }

/** Records every phase published on the named tracing channel until the test ends; tells `changes`. */
function listen(t: Test, name: string, changes = new Changes()): Heard[] {
  const heard: Heard[] = []
  const record = (phase: string) => (message: unknown) => {
    heard.push({ phase, message: message as Record<string, unknown> })
    changes.notify()
  }
  const handlers = { start: record('start'), end: record('end'), asyncStart: record('asyncStart'), asyncEnd: record('asyncEnd'), error: record('error') }
  const channel = tracingChannel(name)
  channel.subscribe(handlers)
  t.teardown(() => channel.unsubscribe(handlers))
  return heard
}

t.test('appends, links, reads and deletes are traced with their arguments and outcome', async (t) => {
  const store = await startStore(t)
  const appends = listen(t, 'pg-eventstore:append')
  const links = listen(t, 'pg-eventstore:link')
  const reads = listen(t, 'pg-eventstore:read')
  const deletes = listen(t, 'pg-eventstore:delete')
  await store.appendToStream('order-1', 'no_stream', makeEvents(3))
  t.match(appends.map((h) => h.phase), ['start', 'end', 'asyncStart', 'asyncEnd'])
  t.match(appends[0]?.message, { streamId: 'order-1', expectedVersion: 'no_stream', eventCount: 3, schema: store.config.schema })
  await t.rejects(store.appendToStream('order-1', 0, makeEvents(1)), { code: 'wrong_expected_version' })
  const failed = appends.slice(4)
  t.ok(failed.some((h) => h.phase === 'error' && (h.message.error as { code?: string }).code === 'wrong_expected_version'), 'a failed append publishes error')
  const events = await store.readStreamForward('order-1')
  const read = reads.find((h) => h.phase === 'asyncEnd')
  t.match(read?.message, { streamId: 'order-1', direction: 'forward', start: 0, count: 1000 })
  t.equal((read?.message.result as RecordedEvent[]).length, 3, 'the read message carries the events read')
  await store.linkToStream('big', 'any_version', events.slice(0, 2))
  t.match(links[0]?.message, { streamId: 'big', eventCount: 2 })
  await store.deleteStream('big', 'any_version')
  t.match(deletes[0]?.message, { streamId: 'big', mode: 'soft' })
  t.ok(deletes.some((h) => h.phase === 'asyncEnd'))
})

t.test('deliveries to a subscriber function are traced', async (t) => {
  const store = await startStore(t)
  const delivered = new Changes()
  const deliveries = listen(t, 'pg-eventstore:delivery', delivered)
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('traced', inbox.subscriber)
  await inbox.receive('subscribed', { within: 5000 })
  await store.appendToStream('s', 0, makeEvents(2))
  await inbox.receiveEvents(2, { within: 5000 })
  const starts = deliveries.filter((h) => h.phase === 'start')
  t.match(starts[0]?.message, { subscription: 'traced', streamId: '$all' })
  t.equal(starts.reduce((sum, h) => sum + (h.message.events as RecordedEvent[]).length, 0), 2, 'each delivered event in one traced delivery')
  await delivered.until(() => deliveries.some((h) => h.phase === 'asyncEnd'), { within: 500 }).catch(() => {})
  t.ok(deliveries.some((h) => h.phase === 'asyncEnd'), 'the delivery ends once the subscriber returned')
})

t.test('nothing is published while nobody listens', async (t) => {
  const store = await startStore(t)
  const channel = tracingChannel('pg-eventstore:append')
  t.equal(channel.hasSubscribers, false, 'no subscriber at the start')
  await store.appendToStream('quiet', 0, makeEvents(1))
  const heard = listen(t, 'pg-eventstore:append')
  await store.appendToStream('loud', 0, makeEvents(1))
  t.equal(heard.filter((h) => h.phase === 'start').length, 1, 'only the append made while listening')
})

t.test('metrics() counts appends, events, reads, batches and latencies', async (t) => {
  const store = await startStore(t)
  const before = store.metrics()
  t.equal(before.counters.appends, 0)
  t.equal(before.commitLatency.count, 0)
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendToStream(`m-${i}`, 0, makeEvents(2))))
  await t.rejects(store.appendToStream('m-0', 0, makeEvents(1)))
  await store.readAllStreamsForward(0, 10)
  const after = store.metrics()
  t.equal(after.counters.appends, 20)
  t.equal(after.counters.eventsAppended, 40)
  t.equal(after.counters.writeErrors, 1)
  t.equal(after.counters.reads, 1)
  t.equal(after.counters.eventsRead, 10)
  t.equal(after.batchSize.sum, 21, 'every request went through a batch')
  t.ok(after.batchSize.count >= 1 && after.batchSize.count <= 21)
  t.equal(after.writer.batches, after.batchSize.count)
  t.ok(after.writer.lastCommitAt instanceof Date)
  t.ok((after.commitLatency.p50 ?? 0) > 0 && (after.commitLatency.max ?? 0) >= (after.commitLatency.p50 ?? 0))
  t.equal(after.readLatency.count, 1)
  t.equal(after.commitLatency.buckets.reduce((sum, b) => sum + b.count, 0), after.commitLatency.count, 'buckets add up')
  t.ok(after.workerUtilization >= 0 && after.workerUtilization <= 1)
})

t.test("the store's warnings and errors are counted and the latest kept for status()", async (t) => {
  const store = await startStore(t)
  const errors = new Recorded<unknown>()
  store.on('error', errors.push)
  await store.appendToStream('s', 0, makeEvents(1))
  const failing = await store.subscribeToAllStreams('breaks', async (message) => {
    if (message.type === 'events') throw new Error('projection broke')
  })
  await failing.closed
  await errors.until(() => errors.items.length > 0, { what: "the store's error report" })
  const { recentReports } = await store.status()
  const failed = recentReports.find((report) => /a subscriber of "breaks" failed/.test(report.message))
  t.match(failed, { level: 'error', source: 'subscription', message: /projection broke/ })
  t.ok(failed?.at instanceof Date)
  t.equal(store.metrics().counters.errors, recentReports.filter((report) => report.level === 'error').length, 'each error counted once')
})
