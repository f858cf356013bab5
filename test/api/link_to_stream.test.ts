import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('link events by RecordedEvent or id; the linked stream reads them in link order', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('orders-1', 0, makeEvents(3))
  await store.appendToStream('orders-2', 0, makeEvents(2, 10))
  const first = await store.readStreamForward('orders-1')
  const second = await store.readStreamForward('orders-2')
  await store.linkToStream('all-orders', 0, [first[2]!, second[0]!])
  await store.linkToStream('all-orders', 2, [first[0]!.eventId])
  await store.appendToStream('all-orders', 3, makeEvents(1, 99))
  const linked = await store.readStreamForward('all-orders')
  t.same(linked.map((e) => [e.eventNumber, e.streamId, e.streamVersion]), [
    [1, 'orders-1', 3], [2, 'orders-2', 1], [3, 'orders-1', 1], [4, 'all-orders', 4],
  ])
  t.same(linked.map((e) => e.data), [{ n: 3 }, { n: 10 }, { n: 1 }, { n: 99 }])
  t.equal(linked[0]?.eventId, first[2]?.eventId, 'the same event, not a copy')
  t.same((await store.readStreamBackward('all-orders', 3, 2)).map((e) => e.eventNumber), [3, 2])
  const all = await store.readAllStreamsForward()
  t.equal(all.length, 6, 'links add nothing to $all')
  t.equal((await store.streamInfo('all-orders')).streamVersion, 4)
})

t.test('an event is in a stream only once', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('source', 0, makeEvents(2))
  const [a, b] = await store.readStreamForward('source')
  await store.linkToStream('target', 'any_version', [a!])
  await t.rejects(store.linkToStream('target', 'any_version', [a!]), { code: 'duplicate_event' })
  await t.rejects(store.linkToStream('target', 'any_version', [b!, b!]), { code: 'duplicate_event' })
  await t.rejects(store.linkToStream('source', 'any_version', [a!]), { code: 'duplicate_event' }, 'not into its own stream')
  t.equal((await store.streamInfo('target')).streamVersion, 1, 'failed links wrote nothing')
})

t.test('expected versions and unknown events', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('source', 0, makeEvents(1))
  const [event] = await store.readStreamForward('source')
  await t.rejects(store.linkToStream('target', 'stream_exists', [event!]), { code: 'stream_not_found' })
  await t.rejects(store.linkToStream('target', 1, [event!]), { code: 'wrong_expected_version' })
  await t.rejects(store.linkToStream('target', 0, ['5b2f8f0e-8a4a-4c55-9d63-0b7a3b1d2e4f']), { code: 'invalid_argument' })
  await t.rejects(store.linkToStream('target', 0, ['not-a-uuid']), { code: 'invalid_argument' })
  await t.rejects(store.linkToStream('$all', 0, [event!]), { code: 'invalid_argument' })
  await t.rejects(store.linkToStream('target', 0, []), { code: 'invalid_argument' })
  await store.linkToStream('target', 'no_stream', [event!])
  await t.rejects(store.linkToStream('target', 'no_stream', [event!]), { code: 'stream_exists' })
})
