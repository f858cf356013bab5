import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'

t.test('bufferSize 1: nothing more until the event in flight is acked', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(3))
  const inbox = new Inbox()
  const sub = await store.subscribeToAllStreams('one-at-a-time', inbox.subscriber)
  await inbox.receive('subscribed')
  t.same(numbersOf((await inbox.receive('events')).events), [1])
  await inbox.refuteReceive()
  sub.ack(1)
  t.same(numbersOf((await inbox.receive('events')).events), [2])
  await store.appendToStream('s', 3, makeEvents(1))
  await inbox.refuteReceive()
  sub.ack(2)
  t.same(numbersOf((await inbox.receive('events')).events), [3])
  sub.ack(3)
  t.same(numbersOf((await inbox.receive('events')).events), [4])
})

t.test('bufferSize 3: up to three unacked events, acked in one go by number', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(7))
  const inbox = new Inbox()
  const sub = await store.subscribeToAllStreams('three', inbox.subscriber, { bufferSize: 3 })
  await inbox.receive('subscribed')
  t.same(numbersOf(await inbox.receiveEvents(3)), [1, 2, 3])
  await inbox.refuteReceive()
  sub.ack(2) // acks 1 and 2
  t.same(numbersOf(await inbox.receiveEvents(2)), [4, 5])
  await inbox.refuteReceive()
  sub.ack([3, 4, 5])
  t.same(numbersOf(await inbox.receiveEvents(2)), [6, 7])
})

t.test('catch-up beyond maxSize: every event once, in order, while writers keep appending', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(120))
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('catch-up', inbox.subscriber, { maxSize: 10, bufferSize: 4 })
  await inbox.receive('subscribed')
  const appending = (async () => {
    for (let i = 0; i < 20; i += 1) await store.appendToStream(`live-${i % 3}`, 'any_version', makeEvents(4))
  })()
  const events = await inbox.receiveEvents(200, { within: 20_000 })
  await appending
  t.same(numbersOf(events), Array.from({ length: 200 }, (_, i) => i + 1))
  await store.appendToStream('sentinel', 0, makeEvents(1))
  t.same(numbersOf(await inbox.receiveEvents(1)), [201], 'nothing delivered twice before the next event')
})

t.test('a slow subscriber does not make the actor hold more than maxSize events', async (t) => {
  const store = await startStore(t)
  const inbox = new Inbox()
  const sub = await store.subscribeToAllStreams('slow', inbox.subscriber, { maxSize: 5 })
  await inbox.receive('subscribed')
  for (let i = 0; i < 10; i += 1) await store.appendToStream('s', 'any_version', makeEvents(10))
  // 100 events were appended while one was in flight; acking one at a time yields all, in order.
  const seen: number[] = []
  for (let n = 1; n <= 100; n += 1) {
    const [event] = (await inbox.receive('events')).events as { eventNumber: number }[]
    seen.push(event?.eventNumber ?? -1)
    sub.ack(event?.eventNumber ?? 0)
  }
  t.same(seen, Array.from({ length: 100 }, (_, i) => i + 1))
})
