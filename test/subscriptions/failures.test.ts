import { BroadcastChannel } from 'node:worker_threads'
import t from 'tap'
import { Recorded } from '../helpers/changes.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'
import { within } from '../helpers/settles.js'

const projector = new URL('../fixtures/projector.js', import.meta.url)

t.test('a subscriber that throws stops its subscription cleanly; a resubscribe resumes', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, [...makeEvents(2), { eventType: 'Poison', data: { n: 3 } }, ...makeEvents(2, 4)])
  const inbox = new Inbox({ autoAck: true })
  inbox.onEvents = (message) => {
    if (message.events.some((e) => e.eventType === 'Poison')) throw new Error('cannot handle poison')
  }
  const sub = await store.subscribeToAllStreams('fragile', inbox.subscriber)
  const errors: Error[] = []
  sub.on('error', (error: Error) => errors.push(error))
  await inbox.receive('subscribed')
  t.same(numbersOf(await inbox.receiveEvents(2)), [1, 2])
  const closed = await sub.closed
  t.match(closed, { reason: 'error', error: { message: 'cannot handle poison' } })
  t.equal(errors.length, 1, "the error reached the caller's 'error' listener")
  await store.appendToStream('s', 5, makeEvents(1))
  t.ok(await store.streamInfo('s'), 'the store still works')

  const retry = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('fragile', retry.subscriber)
  await retry.receive('subscribed')
  t.same(numbersOf(await retry.receiveEvents(4)), [3, 4, 5, 6], 'resumed at the event that failed: the checkpoint was 2')
})

t.test('subscribing again the moment a failed subscriber closed its subscription always works', async (t) => {
  const store = await startStore(t)
  store.on('error', () => {})
  await store.appendToStream('s', 0, makeEvents(1))
  // Each round, the actor may still be stopping when the next subscribe comes: that one must
  // reach a new actor, not fail on the old one.
  for (let round = 1; round <= 15; round += 1) {
    const inbox = new Inbox({ autoAck: true })
    inbox.onEvents = () => {
      throw new Error(`round ${round} fails`)
    }
    const sub = await store.subscribeToAllStreams('flaky', inbox.subscriber)
    t.match(await sub.closed, { reason: 'error', error: { message: `round ${round} fails` } }, `round ${round} closed with its own error`)
  }
  const last = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('flaky', last.subscriber)
  await last.receive('subscribed')
  t.same(numbersOf(await last.receiveEvents(1)), [1], 'the event no failed round acknowledged is delivered')
})

t.test('with no error listener, a failing subscriber does not take the process down', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(1))
  const sub = await store.subscribeToAllStreams('quiet', async (message) => {
    if (message.type === 'events') throw new Error('boom')
  })
  t.match(await sub.closed, { reason: 'error', error: { message: 'boom' } })
})

t.test('an actor module that throws: the error reaches the caller', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, [{ eventType: 'E', data: { fail: true } }])
  const sub = await store.subscribeToAllStreams('module-fails', projector)
  t.match(await sub.closed, { reason: 'error', error: { message: 'projector failed on purpose' } })
})

t.test('a subscriber module that ends its thread closes its own subscription with an error; its neighbours go on', async (t) => {
  const store = await startStore(t, { workers: 1 })
  const reports: string[] = []
  store.on('error', (report) => reports.push(report.message))
  await store.appendToStream('s', 0, makeEvents(2))
  // Neighbours: a function subscriber and a healthy module subscriber, on the same single-thread pool.
  const watcher = new Inbox({ autoAck: true })
  const watched = await store.subscribeToAllStreams('watcher', watcher.subscriber, { bufferSize: 10 })
  await watcher.receive('subscribed')
  t.same(numbersOf(await watcher.receiveEvents(2)), [1, 2])
  const healthyChannel = new BroadcastChannel('healthy-module')
  t.teardown(() => healthyChannel.close())
  const healthySeen = new Recorded<number>()
  healthyChannel.onmessage = (message) => {
    const data = (message as MessageEvent).data as { type: string; numbers?: number[] }
    if (data.type === 'events') healthySeen.push(...(data.numbers ?? []))
  }
  const healthy = await store.subscribeToStream('s', 'healthy-module', projector, { bufferSize: 10 })

  const crashing = await store.subscribeToStream('doomed', 'crashing', projector)
  const errors: Error[] = []
  crashing.on('error', (error: Error) => errors.push(error))
  await store.appendToStream('doomed', 0, [{ eventType: 'E', data: { crash: true } }])
  const closed = await crashing.closed
  t.equal(closed.reason, 'error', 'the crashing subscription closes with reason error')
  t.match(closed.error?.message, /subscriber thread .* died/, 'and says its thread died')
  t.equal(errors.length, 1, "its 'error' event fired")
  t.ok(reports.some((message) => /crashing/.test(message)), "the store's 'error' channel told of it")

  await store.appendToStream('s', 2, makeEvents(200, 3))
  t.same(numbersOf(await watcher.receiveEvents(201)), Array.from({ length: 201 }, (_, i) => i + 3), 'the function subscriber missed nothing')
  await healthySeen.until(() => healthySeen.items.includes(202), { within: 10_000 }).catch(() => {})
  t.same(healthySeen.items, Array.from({ length: 202 }, (_, i) => i + 1), 'the module subscriber on its own thread missed nothing')
  let settled = false
  void Promise.race([watched.closed, healthy.closed]).then(() => (settled = true))
  // Only a subscription still open is delivered a sentinel appended now.
  await store.appendToStream('s', 202, makeEvents(1))
  t.same(numbersOf(await watcher.receiveEvents(1)), [204])
  await healthySeen.until(() => healthySeen.items.includes(203))
  t.notOk(settled, 'both neighbours are still subscribed')
  t.same(numbersOf(await store.readStreamForward('s', 0, 3)), [1, 2, 3], 'reads work')
})

t.test('a subscriber module that cannot be loaded is refused as invalid_argument', async (t) => {
  const store = await startStore(t)
  await t.rejects(store.subscribeToAllStreams('missing', new URL('../fixtures/no_such_module.js', import.meta.url)), {
    code: 'invalid_argument',
    message: /cannot load the subscriber module/,
  })
  await t.rejects(store.subscribeToAllStreams('not-a-subscriber', new URL('../fixtures/class_serializer.js', import.meta.url)), { code: 'invalid_argument' })
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('missing', inbox.subscriber)
  await inbox.receive('subscribed')
  t.pass('the name is free again after the refusal')
})

t.test('transient subscriptions: live once subscribe resolves, new events only, no ack needed, stop ends them', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(2))
  const seen = new Recorded<unknown>()
  const stop = await store.subscribe('$all', (event) => {
    seen.push(event)
  }, { selector: (e) => e.streamId !== 'noise', mapper: (e) => e.eventNumber })
  const onStream = new Recorded<number>()
  const stopStream = await store.subscribe('s', (event) => {
    onStream.push((event as { streamVersion: number }).streamVersion)
  })
  // Still subscribed when the others have stopped: what it sees, they would have seen by then.
  const witness = new Recorded<number>()
  await store.subscribe('$all', (event) => witness.push(event.eventNumber))
  await store.appendToStream('s', 2, makeEvents(3))
  await store.appendToStream('noise', 0, makeEvents(1))
  await store.appendToStream('s', 5, makeEvents(1))
  await seen.until(() => seen.items.length >= 4).catch(() => {})
  await onStream.until(() => onStream.items.length >= 4).catch(() => {})
  t.same(seen.items, [3, 4, 5, 7], 'new events only, selected and mapped, no ack needed')
  t.same(onStream.items, [3, 4, 5, 6])
  await stop()
  await stopStream()
  await store.appendToStream('s', 6, makeEvents(1))
  await witness.until(() => witness.items.includes(8))
  t.equal(seen.items.length, 4, 'nothing after stop')
  t.equal(onStream.items.length, 4)
  await t.rejects(store.subscribe('$all', 'nope' as never), { code: 'invalid_argument' })
})

t.test('a subscriber that hangs and never acks holds up its own subscription only; stop() still resolves', async (t) => {
  const store = await startStore(t)
  const stuck = await store.subscribeToAllStreams('stuck', async (message) => {
    if (message.type === 'events') await new Promise(() => {}) // never returns, never acks
  })
  const healthy = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('healthy', healthy.subscriber, { bufferSize: 10 })
  await healthy.receive('subscribed')
  for (let i = 0; i < 10; i += 1) await store.appendToStream(`s-${i}`, 0, makeEvents(10))
  t.same(numbersOf(await healthy.receiveEvents(100)), Array.from({ length: 100 }, (_, i) => i + 1), 'the healthy subscription got every event')
  let closed = false
  void stuck.closed.then(() => (closed = true))
  t.notOk(closed, 'the stuck one is still subscribed, waiting for its ack')
  t.not(await within(store.stop(), 15_000), 'hung', 'stop() resolves although a handler never returns')
})
