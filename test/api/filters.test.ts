// Server-side filters on $all: event types and stream id prefixes, evaluated by PostgreSQL, on
// reads, iterators and subscriptions; a filtered subscription's checkpoint moves past the
// events it was not sent.
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { RecordedEvent } from '../../lib/types.js'
import { Recorded } from '../helpers/changes.js'
import { freshStoreConfig } from '../helpers/database.js'
import { eventually } from '../helpers/eventually.js'
import { Inbox } from '../helpers/inbox.js'

/** 300 events in $all: every 30th is an OrderPlaced of an order-… stream, the rest noise. */
async function seeded(t: Test) {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  for (let batch = 0; batch < 10; batch += 1) {
    await store.appendToStream(`noise-${batch}`, 0, Array.from({ length: 29 }, (_, i) => ({ eventType: i % 2 ? 'Tick' : 'Tock', data: { i } })))
    await store.appendToStream(`order-${batch}`, 0, [{ eventType: 'OrderPlaced', data: { batch } }])
  }
  return { config, store }
}

const positions = (events: RecordedEvent[]) => events.map((e) => e.eventNumber)
const orderPositions = Array.from({ length: 10 }, (_, i) => 30 * (i + 1))

t.test('reads of $all keep only what the filter asks for', async (t) => {
  const { store } = await seeded(t)
  t.same(positions(await store.readAllStreamsForward(0, 1000, { filter: { eventTypes: ['OrderPlaced'] } })), orderPositions, 'by event type')
  t.same(positions(await store.readAllStreamsForward(0, 1000, { filter: { streamPrefix: 'order-' } })), orderPositions, 'by stream prefix')
  t.same(positions(await store.readAllStreamsForward(0, 3, { filter: { streamPrefix: 'order-' } })), [30, 60, 90], 'count is of matching events')
  t.same(positions(await store.readAllStreamsForward(100, 2, { filter: { eventTypes: ['OrderPlaced'] } })), [120, 150], 'from a position')
  t.same(positions(await store.readAllStreamsBackward(-1, 2, { filter: { eventTypes: ['OrderPlaced'] } })), [300, 270], 'backward')
  t.same(positions(await store.readAllStreamsBackward(200, 2, { filter: { eventTypes: ['OrderPlaced'] } })), [180, 150], 'backward from a position')
  const both = await store.readAllStreamsForward(0, 1000, { filter: { eventTypes: ['Tick'], streamPrefix: 'noise-1' } })
  t.ok(both.length > 0 && both.every((e) => e.eventType === 'Tick' && e.streamId === 'noise-1'), 'both parts hold')
  t.same(await store.readAllStreamsForward(0, 10, { filter: { eventTypes: ['Nothing'] } }), [], 'nothing matches')
  t.same(await store.readAllStreamsForward(0, 10, { filter: { streamPrefix: 'nois_' } }), [], "a prefix's _ and % are literal")
  let all: RecordedEvent[] = []
  for await (const event of store.streamAllForward(0, { readBatchSize: 3, filter: { eventTypes: ['OrderPlaced'] } })) all.push(event)
  t.same(positions(all), orderPositions, 'streamAllForward, three a page')
  all = []
  for await (const event of store.streamAllBackward(-1, { readBatchSize: 4, filter: { streamPrefix: 'order-' } })) all.push(event)
  t.same(positions(all), [...orderPositions].reverse(), 'streamAllBackward')
})

t.test('bad filters are refused', async (t) => {
  const { store } = await seeded(t)
  const refused = { code: 'invalid_argument' }
  await t.rejects(store.readAllStreamsForward(0, 10, { filter: { eventTypes: [] } }), refused)
  await t.rejects(store.readAllStreamsForward(0, 10, { filter: { eventTypes: [7] as never } }), refused)
  await t.rejects(store.readAllStreamsForward(0, 10, { filter: { streamPrefix: '' } }), refused)
  await t.rejects(store.readAllStreamsForward(0, 10, { filter: { types: ['A'] } as never }), { code: 'invalid_argument', message: /"types"/ })
  await t.rejects(store.subscribeToStream('order-1', 'x', () => {}, { filter: { eventTypes: ['A'] } }), { code: 'invalid_argument', message: /filters apply to \$all/ })
  await t.rejects(store.subscribe('order-1', () => {}, { filter: { eventTypes: ['A'] } }), { code: 'invalid_argument' })
})

t.test('a filtered subscription gets only matching events, and its checkpoint moves past the rest', async (t) => {
  const { config, store } = await seeded(t)
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('orders', inbox.subscriber, { filter: { streamPrefix: 'order-' }, bufferSize: 10, maxSize: 4 })
  await inbox.receive('subscribed')
  t.same(positions(await inbox.receiveEvents(10)), orderPositions, 'catch-up delivers the ten matches, four a page')
  // None of these may be delivered: the next match received below would come after them.
  await store.appendToStream('noise-x', 0, Array.from({ length: 50 }, () => ({ eventType: 'Tick', data: {} })))
  const sql = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const checkpoint = async () => Number((await sql`SELECT last_seen FROM ${sql(config.schema)}.subscriptions WHERE subscription_name = 'orders'`)[0]?.last_seen)
  t.equal(await eventually(checkpoint, (stored) => stored >= 350), 350, 'the checkpoint reached the head, past 50 events it was never sent')
  await store.appendToStream('order-new', 0, [{ eventType: 'OrderPlaced', data: {} }])
  t.same(positions(await inbox.receiveEvents(1)), [351], 'a new match arrives live, and no noise before it')
  await store.unsubscribeFromAllStreams('orders')

  const again = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('orders', again.subscriber, { filter: { streamPrefix: 'order-' } })
  await again.receive('subscribed')
  await store.appendToStream('order-new', 1, [{ eventType: 'OrderPlaced', data: {} }])
  t.same(positions(await again.receiveEvents(1)), [352], 'resubscribed, it resumes after its checkpoint: nothing is replayed')
})

t.test('a transient subscription to $all takes a filter', async (t) => {
  const { store } = await seeded(t)
  const seen = new Recorded<RecordedEvent>()
  const stop = await store.subscribe('$all', seen.push, { filter: { eventTypes: ['OrderPlaced'] } })
  t.teardown(stop)
  await store.appendToStream('noise-live', 0, [{ eventType: 'Tick', data: {} }])
  await store.appendToStream('order-live', 0, [{ eventType: 'OrderPlaced', data: {} }])
  // Delivered in $all order: the noise, appended first, would have come before.
  await seen.until(() => seen.items.some((e) => e.streamId === 'order-live'))
  t.same(seen.items.map((e) => e.streamId), ['order-live'])
})
