import { BroadcastChannel } from 'node:worker_threads'
import t from 'tap'
import postgres from 'postgres'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { Inbox } from '../helpers/inbox.js'

const serializer = new URL('../fixtures/class_serializer.js', import.meta.url)

for (const columnDataType of ['jsonb', 'bytea'] as const) {
  t.test(`a custom serializer module with ${columnDataType} columns: reads, iterators, subscriptions, snapshots`, async (t) => {
    const config = await freshStoreConfig(t, { columnDataType, serializer })
    const store = await EventStore.start(config)
    t.teardown(() => store.stop())
    await store.appendToStream('account', 0, [
      { eventType: 'MoneyDeposited', data: { amount: 10, currency: 'EUR' }, metadata: { user: 'ann' } },
      { eventType: 'Untyped', data: { plain: true } },
    ])
    const [deposited, untyped] = await store.readStreamForward('account')
    t.equal((deposited?.data as { label: string }).label, '10 EUR', 'deserialized into the class named by the event type, in the calling thread')
    t.same(deposited?.metadata, { user: 'ann' })
    t.same(untyped?.data, { plain: true })
    const streamed: unknown[] = []
    for await (const event of store.streamAllForward()) streamed.push(event.data)
    t.same(streamed.map((d) => (d as { label?: string }).label ?? d), ['10 EUR', { plain: true }])
    const inbox = new Inbox({ autoAck: true })
    await store.subscribeToAllStreams('serialized', inbox.subscriber, { bufferSize: 10 })
    await inbox.receive('subscribed')
    t.same((await inbox.receiveEvents(2)).map((e) => (e.data as { label?: string }).label ?? e.data), ['10 EUR', { plain: true }], 'subscribers get class instances too')

    const labels = new BroadcastChannel(`labels-${columnDataType}`)
    t.teardown(() => labels.close())
    const received = new Promise((resolve) => {
      labels.onmessage = (message) => resolve((message as MessageEvent).data)
    })
    await store.subscribeToStream('account', `labels-${columnDataType}`, new URL('../fixtures/label_projector.js', import.meta.url), { bufferSize: 10 })
    t.same(await received, ['10 EUR', null], 'an actor module in a worker gets class instances: its thread loaded the serializer')

    await store.recordSnapshot({ sourceUuid: 'account', sourceVersion: 2, sourceType: 'MoneyDeposited', data: { amount: 5, currency: 'USD' } })
    const snapshot = await store.readSnapshot('account')
    t.equal((snapshot.data as { label: string }).label, '5 USD', 'snapshots go through the serializer with their sourceType (on the calling thread)')

    await t.rejects(store.appendToStream('account', 2, [{ eventType: 'Boom', data: { explode: true } }]), {
      code: 'invalid_argument',
      message: /serializer failed.*"Boom"/,
    })
    await store.appendToStream('broken', 0, [{ eventType: 'Corrupt', data: { corrupt: true } }])
    await t.rejects(store.readStreamForward('broken'), { code: 'invalid_argument', message: /could not deserialize.*"Corrupt"/ })
  })
}

t.test('bytea columns hold the bytes the serializer made; jsonb is the default', async (t) => {
  const bytea = await freshStoreConfig(t, { columnDataType: 'bytea' })
  const sql = postgres(bytea.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const types = async (schema: string) =>
    (await sql`SELECT data_type FROM information_schema.columns WHERE table_schema = ${schema} AND table_name IN ('events', 'snapshots') AND column_name IN ('data', 'metadata')`).map((r) => r.data_type)
  t.same(await types(bytea.schema), ['bytea', 'bytea', 'bytea', 'bytea'])
  const store = await EventStore.start({ ...bytea, columnDataType: undefined })
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, [{ eventType: 'E', data: { n: 1, text: 'ü' } }, { eventType: 'E', data: null }])
  t.same((await store.readStreamForward('s')).map((e) => e.data), [{ n: 1, text: 'ü' }, null], 'JSON in bytea by default')
  const [row] = await sql.unsafe(`SELECT convert_from(data, 'UTF8') AS text FROM "${bytea.schema}".events ORDER BY global_position LIMIT 1`)
  t.equal(row?.text, '{"n":1,"text":"ü"}')
  await t.rejects(EventStore.start({ ...bytea, columnDataType: 'jsonb' }), { code: 'schema', message: /stores event data as bytea/ })
  const plain = await freshStoreConfig(t)
  t.same(await types(plain.schema), ['jsonb', 'jsonb', 'jsonb', 'jsonb'])
})

t.test('a serializer module that cannot be used is refused at start', async (t) => {
  const config = await freshStoreConfig(t)
  await t.rejects(EventStore.start({ ...config, serializer: new URL('../fixtures/missing_serializer.js', import.meta.url) }), { code: 'invalid_argument', message: /cannot load/ })
  await t.rejects(EventStore.start({ ...config, serializer: new URL('../fixtures/projector.js', import.meta.url) }), { code: 'invalid_argument', message: /must export serialize/ })
  await t.rejects(EventStore.start({ ...config, columnDataType: 'xml' as never }), { code: 'invalid_argument' })
})
