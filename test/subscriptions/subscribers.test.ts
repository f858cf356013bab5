import { BroadcastChannel, threadId } from 'node:worker_threads'
import t from 'tap'
import { Changes, Recorded } from '../helpers/changes.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { eventually } from '../helpers/eventually.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'

const projector = new URL('../fixtures/projector.js', import.meta.url)

function listen(name: string) {
  const channel = new BroadcastChannel(name)
  const received = new Recorded<{ type: string; numbers?: number[]; threadId: number }>()
  channel.onmessage = (message) => received.push((message as MessageEvent).data)
  return { received: received.items, until: (check: () => boolean) => received.until(check, { what: name }), close: () => channel.close() }
}

t.test('an actor module runs in the worker pool and acks from there', async (t) => {
  const store = await startStore(t)
  const reports = listen('projector-1')
  t.teardown(reports.close)
  await store.appendToStream('s', 0, [...makeEvents(2), { eventType: 'Ignored', data: {} }, ...makeEvents(2, 3)])
  await store.subscribeToAllStreams('projector-1', projector, { bufferSize: 10 })
  const numbers = () => reports.received.flatMap((r) => r.numbers ?? [])
  await reports.until(() => numbers().length === 4)
  t.same(numbers(), [1, 2, 4, 5], 'the module selector dropped event 3')
  t.equal(reports.received[0]?.type, 'subscribed')
  t.ok(reports.received.every((r) => r.threadId !== threadId), 'it ran off the main thread')
  await store.appendToStream('s', 5, makeEvents(1))
  await reports.until(() => numbers().length === 5)
  // The module reports a batch before it acks it, from its own thread: the actor tells when the ack is in.
  const acknowledged = async () => (await store.status()).subscriptions.find((s) => s.name === 'projector-1')?.checkpoint
  t.equal(await eventually(acknowledged, (n) => n === 6), 6, 'the actor has its acks')
  await store.unsubscribeFromAllStreams('projector-1')
  const again = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('projector-1', again.subscriber)
  await again.receive('subscribed')
  await store.appendToStream('sentinel', 0, makeEvents(1))
  t.same(numbersOf(await again.receiveEvents(1)), [7], 'the module acked all it was given: the next subscriber starts after it')
})

t.test('selector and mapper given as options run in the calling thread; rejected events count as acked', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(6))
  const inbox = new Inbox<{ number: number; n: number }>({ autoAck: true })
  await store.subscribeToAllStreams('even', inbox.subscriber, {
    bufferSize: 10,
    selector: (event) => event.eventNumber % 2 === 0,
    mapper: (event) => ({ number: event.eventNumber, n: (event.data as { n: number }).n }),
  })
  await inbox.receive('subscribed')
  const mapped: unknown[] = []
  while (mapped.length < 3) mapped.push(...(await inbox.receive('events')).events)
  t.same(mapped, [{ number: 2, n: 2 }, { number: 4, n: 4 }, { number: 6, n: 6 }])
  await store.unsubscribeFromAllStreams('even')
  const after = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('even', after.subscriber)
  await after.receive('subscribed')
  await store.appendToStream('sentinel', 0, makeEvents(1))
  t.same(numbersOf(await after.receiveEvents(1)), [7], 'rejected events were acked: the next subscriber starts after them')
})

t.test('competing consumers share the events; the least loaded gets the next one', async (t) => {
  const store = await startStore(t)
  const one = new Inbox()
  const two = new Inbox()
  const first = await store.subscribeToAllStreams('shared', one.subscriber, { concurrencyLimit: 2 })
  const second = await store.subscribeToAllStreams('shared', two.subscriber, { concurrencyLimit: 2 })
  await t.rejects(store.subscribeToAllStreams('shared', new Inbox().subscriber, { concurrencyLimit: 2 }), { code: 'subscription_already_exists' })
  await one.receive('subscribed')
  await two.receive('subscribed')
  await store.appendToStream('s', 0, makeEvents(4))
  t.same(numbersOf((await one.receive('events')).events), [1])
  t.same(numbersOf((await two.receive('events')).events), [2])
  await one.refuteReceive({ within: 200 })
  second.ack(2)
  t.same(numbersOf((await two.receive('events')).events), [3], 'the idle subscriber got the next event')
  first.ack(1)
  t.same(numbersOf((await one.receive('events')).events), [4])
})

t.test('partitionBy: one key goes to one subscriber, in order, with bufferSize > 1', async (t) => {
  const store = await startStore(t)
  const changes = new Changes()
  const inboxes = [new Inbox({ autoAck: true, changes }), new Inbox({ autoAck: true, changes })]
  const options = { concurrencyLimit: 2, bufferSize: 3, partitionBy: (event: { streamId: string }) => event.streamId }
  for (const inbox of inboxes) await store.subscribeToAllStreams('partitioned', inbox.subscriber, options)
  for (const inbox of inboxes) await inbox.receive('subscribed')
  for (let round = 0; round < 5; round += 1) {
    await Promise.all(['a', 'b', 'c', 'd'].map((s) => store.appendToStream(s, 'any_version', makeEvents(2))))
  }
  const all = () => inboxes.flatMap((i) => i.messages.flatMap((m) => (m.type === 'events' ? m.events : [])))
  await changes.until(() => all().length >= 40, { within: 10_000 }).catch(() => {})
  t.equal(all().length, 40, 'every event delivered once')
  for (const [i, inbox] of inboxes.entries()) {
    const events = inbox.messages.flatMap((m) => (m.type === 'events' ? m.events : []))
    const byStream = new Map<string, number[]>()
    for (const e of events) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.streamVersion])
    // One assertion per subscriber, whichever streams it was given: the count stays the same run to run.
    const outOfOrder = [...byStream].filter(([, versions]) => versions.some((v, j) => j > 0 && v < (versions[j - 1] as number))).map(([stream]) => stream)
    t.same(outOfOrder, [], `subscriber ${i}: each of its streams in version order`)
  }
})

t.test('a subscriber that goes away: its unacked events go to the others, not counted as acked', async (t) => {
  const store = await startStore(t)
  const leaving = new Inbox()
  const staying = new Inbox({ autoAck: true })
  leaving.onEvents = () => {
    throw new Error('subscriber crashed')
  }
  const gone = await store.subscribeToAllStreams('failover', leaving.subscriber, { concurrencyLimit: 2 })
  await store.subscribeToAllStreams('failover', staying.subscriber, { concurrencyLimit: 2 })
  await leaving.receive('subscribed')
  await staying.receive('subscribed')
  await store.appendToStream('s', 0, makeEvents(4))
  const closed = await gone.closed
  t.match(closed, { reason: 'error', error: { message: 'subscriber crashed' } })
  const events = await staying.receiveEvents(4)
  t.same(numbersOf(events).sort((a, b) => a - b), [1, 2, 3, 4], 'the other subscriber got all of them, including the failed one')
})
