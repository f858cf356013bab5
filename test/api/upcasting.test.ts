// Upcasters: stored events brought to their current schema wherever they are decoded; new
// appends stamped with the current version. Events are written by a store without upcasters,
// as an older deployment would have, and read by one with them.
import { BroadcastChannel } from 'node:worker_threads'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { RecordedEvent } from '../../lib/types.js'
import type { Upcaster } from '../../lib/upcasting.js'
import { Recorded } from '../helpers/changes.js'
import { freshStoreConfig } from '../helpers/database.js'
import { Inbox } from '../helpers/inbox.js'

const upcastersModule = new URL('../fixtures/upcasters.js', import.meta.url)

async function oldAndNew(t: Test, upcasters: Upcaster[] | URL = upcastersModule, overrides = {}) {
  const config = await freshStoreConfig(t, overrides)
  const old = await EventStore.start(config)
  t.teardown(() => old.stop())
  const current = await EventStore.start({ ...config, upcasters })
  t.teardown(() => current.stop())
  return { config, old, current }
}

const shape = (events: RecordedEvent[]) => events.map((e) => ({ n: e.eventNumber, type: e.eventType, data: e.data, version: e.metadata.$schemaVersion }))

t.test('a chain v1 → v2 → v3, a rename and a split, on reads and iterators', async (t) => {
  const { old, current } = await oldAndNew(t)
  await old.appendToStream('order-1', 0, [
    { eventType: 'OrderPlaced', data: { amount: 5 } },
    { eventType: 'CustomerCreated', data: { name: 'Ada' } },
    { eventType: 'AddressChanged', data: { street: 'Main St', city: 'Oslo' } },
    { eventType: 'OrderShipped', data: { by: 'post' } },
  ])
  const expected = [
    { n: 1, type: 'OrderPlaced', data: { total: 5, currency: 'EUR' }, version: 3 },
    { n: 2, type: 'CustomerRegistered', data: { name: 'Ada' }, version: undefined },
    { n: 3, type: 'StreetChanged', data: { street: 'Main St' }, version: undefined },
    { n: 3, type: 'CityChanged', data: { city: 'Oslo' }, version: undefined },
    { n: 4, type: 'OrderShipped', data: { by: 'post' }, version: undefined },
  ]
  t.same(shape(await current.readStreamForward('order-1')), expected, 'readStreamForward')
  t.same(shape(await current.readAllStreamsForward()), expected, 'readAllStreamsForward')
  const [placed, registered, street, city, shipped] = expected
  t.same(shape(await current.readStreamBackward('order-1')), [shipped, street, city, registered, placed], 'readStreamBackward: newest first, a split keeps its order')
  const iterated: RecordedEvent[] = []
  for await (const event of current.streamForward('order-1', 0, { readBatchSize: 2 })) iterated.push(event)
  t.same(shape(iterated), expected, 'streamForward, two stored events a page')
  const all: RecordedEvent[] = []
  for await (const event of current.streamAllForward()) all.push(event)
  t.same(shape(all), expected, 'streamAllForward')
  t.same(shape(await old.readStreamForward('order-1')).map((e) => e.type), ['OrderPlaced', 'CustomerCreated', 'AddressChanged', 'OrderShipped'], 'history is not rewritten')
})

t.test('appends stamp the current version, which the chain passes by', async (t) => {
  const calls: string[] = []
  const upcasters: Upcaster[] = [
    { eventType: 'OrderPlaced', fromVersion: 1, upcast: (e) => (calls.push('v1'), { ...e, data: { total: (e.data as { amount: number }).amount } }) },
    { eventType: 'OrderPlaced', fromVersion: 2, upcast: (e) => (calls.push('v2'), { ...e, data: { ...(e.data as object), currency: 'EUR' } }) },
  ]
  const { old, current } = await oldAndNew(t, upcasters)
  await current.appendToStream('order-2', 0, [
    { eventType: 'OrderPlaced', data: { total: 7, currency: 'SEK' } },
    { eventType: 'OrderPlaced', data: { amount: 1 }, metadata: { $schemaVersion: 1 } },
    { eventType: 'Other', data: {} },
  ])
  const stored = await old.readStreamForward('order-2')
  t.same(stored.map((e) => e.metadata.$schemaVersion), [3, 1, undefined], 'stamped with 3; a version the caller gave stays; types without upcasters get none')
  t.same(shape(await current.readStreamForward('order-2')).map((e) => e.data), [{ total: 7, currency: 'SEK' }, { total: 1, currency: 'EUR' }, {}])
  t.same(calls, ['v1', 'v2'], 'only the old event went through the chain')
})

t.test('subscriber functions and actor modules receive upcast events; splits are acked by their event number', async (t) => {
  const { old, current } = await oldAndNew(t)
  await old.appendToStream('s', 0, [
    { eventType: 'OrderPlaced', data: { amount: 3 } },
    { eventType: 'AddressChanged', data: { street: 'High St', city: 'Bergen' } },
  ])
  const inbox = new Inbox({ autoAck: true })
  await current.subscribeToAllStreams('functions', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  const received = await inbox.receiveEvents(3)
  t.same(shape(received).map((e) => [e.n, e.type]), [[1, 'OrderPlaced'], [2, 'StreetChanged'], [2, 'CityChanged']])
  t.same(received[0]?.data, { total: 3, currency: 'EUR' })
  await old.appendToStream('s', 2, [{ eventType: 'OrderPlaced', data: { amount: 4 } }])
  t.same(shape(await inbox.receiveEvents(1)).map((e) => e.n), [3], 'the split event was acked: delivery goes on')

  const heard = new BroadcastChannel('modules')
  const batches = new Recorded<{ eventType: string; data: unknown }[]>()
  heard.onmessage = (message) => {
    const data = (message as { data: { type: string; events?: { eventType: string; data: unknown }[] } }).data
    if (data.type === 'events' && data.events) batches.push(data.events)
  }
  t.teardown(() => heard.close())
  await current.subscribeToAllStreams('modules', new URL('../fixtures/projector.js', import.meta.url), { bufferSize: 10 })
  await batches.until(() => batches.items.flat().length >= 4).catch(() => {})
  t.same(
    batches.items.flat().map((e) => e.eventType),
    ['OrderPlaced', 'StreetChanged', 'CityChanged', 'OrderPlaced'],
    'the module, on its own thread, got them upcast too',
  )
  t.same(batches.items.flat()[3]?.data, { total: 4, currency: 'EUR' })
})

t.test('upcasters given as functions cannot reach an actor module: refused when subscribing', async (t) => {
  const { current } = await oldAndNew(t, [{ eventType: 'A', fromVersion: 1, upcast: (e) => e }])
  await t.rejects(current.subscribeToAllStreams('m', new URL('../fixtures/projector.js', import.meta.url)), { code: 'invalid_argument', message: /upcasters as the URL or path of a module/ })
})

t.test('upcasting bytea events stored by a custom serializer', async (t) => {
  const serializer = new URL('../fixtures/class_serializer.js', import.meta.url)
  const upcasters: Upcaster[] = [
    {
      eventType: 'MoneyDeposited',
      fromVersion: 1,
      upcast: (e) => ({ ...e, data: Object.assign(e.data as object, { currency: (e.data as { currency?: string }).currency ?? 'EUR' }) }),
    },
  ]
  const { old, current } = await oldAndNew(t, upcasters, { columnDataType: 'bytea', serializer })
  await old.appendToStream('account', 0, [{ eventType: 'MoneyDeposited', data: { amount: 10 } }])
  const [event] = await current.readStreamForward('account')
  t.equal(event?.data?.constructor.name, 'MoneyDeposited', 'the upcaster got the deserialized instance')
  t.equal((event?.data as { label: string }).label, '10 EUR', 'and its upcast fields')
  t.equal(event?.metadata.$schemaVersion, 2)
})

t.test('bad upcasters are refused at start; a failing or cycling one fails the read with its name', async (t) => {
  const config = await freshStoreConfig(t)
  await t.rejects(EventStore.start({ ...config, upcasters: 'not/a/module.js' }), { code: 'invalid_argument', message: /upcasters module .* could not be loaded/ })
  await t.rejects(EventStore.start({ ...config, upcasters: [{ eventType: 'A', fromVersion: 0, upcast: (e: RecordedEvent) => e }] }), { code: 'invalid_argument', message: /fromVersion/ })
  const twice = { eventType: 'A', fromVersion: 1, upcast: (e: RecordedEvent) => e }
  await t.rejects(EventStore.start({ ...config, upcasters: [twice, twice] }), { code: 'invalid_argument', message: /a second upcaster of A from version 1/ })
  await t.rejects(EventStore.start({ ...config, upcasters: 42 as never }), { code: 'invalid_argument' })
  const old = await EventStore.start(config)
  t.teardown(() => old.stop())
  await old.appendToStream('s', 0, [{ eventType: 'Broken', data: {} }, { eventType: 'Ping', data: {} }])
  const failing = await EventStore.start({
    ...config,
    upcasters: [
      { eventType: 'Broken', fromVersion: 1, upcast: () => { throw new Error('no way') } },
      { eventType: 'Ping', fromVersion: 1, upcast: (e: RecordedEvent) => ({ ...e, eventType: 'Pong' }) },
      { eventType: 'Pong', fromVersion: 1, upcast: (e: RecordedEvent) => ({ ...e, eventType: 'Ping' }) },
    ],
  })
  t.teardown(() => failing.stop())
  await t.rejects(failing.readStreamForward('s', 1, 1), { code: 'invalid_argument', message: /the upcaster of Broken from version 1 failed on event .*: no way/ })
  await t.rejects(failing.readStreamForward('s', 2, 1), { code: 'invalid_argument', message: /form a cycle/ })
})
