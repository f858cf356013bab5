import t from 'tap'
import postgres from 'postgres'
import { randomUUID } from 'node:crypto'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig, startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { eventually } from '../helpers/eventually.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'

t.test('subscribed first, then every event in $all order; live events follow', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('a', 0, makeEvents(2))
  await store.appendToStream('b', 0, makeEvents(1))
  const inbox = new Inbox({ autoAck: true })
  const sub = await store.subscribeToAllStreams('all', inbox.subscriber)
  const subscribed = await inbox.receive('subscribed')
  t.equal(subscribed.subscription, sub, 'the message carries the handle')
  t.same(numbersOf(await inbox.receiveEvents(3)), [1, 2, 3])
  await store.appendToStream('c', 0, makeEvents(2))
  const live = await inbox.receiveEvents(2)
  t.same(live.map((e) => [e.eventNumber, e.streamId, e.streamVersion]), [[4, 'c', 1], [5, 'c', 2]])
  await store.appendToStream('sentinel', 0, makeEvents(1))
  t.same(numbersOf(await inbox.receiveEvents(1)), [6], 'nothing delivered twice before the next event')
})

t.test('a batch holds events of one stream and one correlation id', async (t) => {
  const store = await startStore(t)
  const one = randomUUID()
  const two = randomUUID()
  await store.appendToStream('a', 0, [
    { eventType: 'E', data: 1, correlationId: one },
    { eventType: 'E', data: 2, correlationId: one },
    { eventType: 'E', data: 3, correlationId: two },
  ])
  await store.appendToStream('b', 0, [{ eventType: 'E', data: 4, correlationId: two }])
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('batches', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  const batches = [await inbox.receive('events'), await inbox.receive('events'), await inbox.receive('events')]
  t.same(batches.map((b) => numbersOf(b.events)), [[1, 2], [3], [4]])
})

t.test('a stream subscription: its own stream only, and it waits for a stream not yet made', async (t) => {
  const store = await startStore(t)
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToStream('later', 'waiting', inbox.subscriber)
  await inbox.receive('subscribed')
  // The next events delivered must be those of 'later': any of 'other' would come first.
  await store.appendToStream('other', 0, makeEvents(3))
  await store.appendToStream('later', 0, makeEvents(2))
  const events = await inbox.receiveEvents(2)
  t.same(events.map((e) => [e.eventNumber, e.streamId]), [[1, 'later'], [2, 'later']])
  const [origin] = await store.readStreamForward('other')
  await store.linkToStream('later', 2, [origin!])
  const [linked] = await inbox.receiveEvents(1)
  t.same([linked?.eventNumber, linked?.streamId, linked?.streamVersion], [3, 'other', 1], 'links reach stream subscriptions')
})

t.test('startFrom origin, current and N; resubscribing resumes after the checkpoint and ignores startFrom', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(5))
  const fromThree = new Inbox({ autoAck: true })
  await store.subscribeToStream('s', 'from-3', fromThree.subscriber, { startFrom: 3 })
  await fromThree.receive('subscribed')
  t.same(numbersOf(await fromThree.receiveEvents(2)), [4, 5])

  const current = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('current', current.subscriber, { startFrom: 'current' })
  await current.receive('subscribed')
  await store.appendToStream('s', 5, makeEvents(1))
  t.same(numbersOf(await current.receiveEvents(1)), [6], 'nothing before the first event appended after subscribing')

  await store.unsubscribeFromAllStreams('current')
  await store.appendToStream('s', 6, makeEvents(2))
  const again = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('current', again.subscriber, { startFrom: 'origin' })
  await again.receive('subscribed')
  t.same(numbersOf(await again.receiveEvents(2)), [7, 8], 'resumed after the checkpoint, not from the origin')
})

t.test('deleteSubscription forgets the checkpoint', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(3))
  const first = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('forget', first.subscriber)
  await first.receive('subscribed')
  await first.receiveEvents(3)
  await store.deleteSubscription('$all', 'forget')
  await t.rejects(store.deleteSubscription('$all', 'forget'), { code: 'subscription_not_found' })
  const second = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('forget', second.subscriber)
  await second.receive('subscribed')
  t.same(numbersOf(await second.receiveEvents(3)), [1, 2, 3], 'from the origin again')
})

t.test('a second subscriber beyond the concurrency limit is refused; bad options too', async (t) => {
  const store = await startStore(t)
  await store.subscribeToAllStreams('single', new Inbox().subscriber)
  await t.rejects(store.subscribeToAllStreams('single', new Inbox().subscriber), { code: 'subscription_already_exists' })
  await t.rejects(store.subscribeToAllStreams('', new Inbox().subscriber), { code: 'invalid_argument' })
  await t.rejects(store.subscribeToAllStreams('x', 42 as never), { code: 'invalid_argument' })
  await t.rejects(store.subscribeToAllStreams('x', new Inbox().subscriber, { bufferSize: 0 }), { code: 'invalid_argument' })
  await t.rejects(store.subscribeToAllStreams('x', new Inbox().subscriber, { startFrom: 'latest' as never }), { code: 'invalid_argument' })
  await t.rejects(store.subscribeToAllStreams('x', new Inbox().subscriber, { bufferSzie: 2 } as never), { code: 'invalid_argument' })
  await t.rejects(store.subscribeToStream('$all', 'x', new Inbox().subscriber), { code: 'invalid_argument' })
  await t.rejects(store.deleteSubscription('$all', 'never-made'), { code: 'subscription_not_found' })
})

t.test('unsubscribe stores pending acknowledgements; the subscriber hears closed', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(4))
  const inbox = new Inbox({ autoAck: true })
  const sub = await store.subscribeToAllStreams('pending', inbox.subscriber, { checkpointThreshold: 100, bufferSize: 10 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(4)
  const sql = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const checkpoint = async () => (await sql.unsafe(`SELECT last_seen FROM "${config.schema}".subscriptions WHERE subscription_name = 'pending'`))[0]?.last_seen
  t.equal(Number(await checkpoint()), 0, 'below the threshold nothing is stored yet')
  await sub.unsubscribe()
  t.equal(Number(await checkpoint()), 4, 'unsubscribe stored it')
  t.match(await sub.closed, { reason: 'unsubscribed', error: null })
})

t.test('checkpointAfter stores acknowledgements below the threshold after the delay', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const sql = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const checkpoint = async () => Number((await sql.unsafe(`SELECT last_seen FROM "${config.schema}".subscriptions WHERE subscription_name = 'timed'`))[0]?.last_seen)
  await store.appendToStream('s', 0, makeEvents(3))
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('timed', inbox.subscriber, { checkpointThreshold: 100, checkpointAfter: 200, bufferSize: 10 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(3)
  t.equal(await checkpoint(), 0, 'not yet')
  t.equal(await eventually(checkpoint, (stored) => stored === 3, { within: 3000 }), 3, 'stored by the timer')
})
