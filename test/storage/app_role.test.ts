// Least privilege: a role granted with EventStore.grant (pg-eventstore grant) runs the store
// (append, link, read, subscribe with checkpoints, snapshots) yet owns nothing: it cannot
// drop, alter or truncate the tables, nor move the schema's version. No password shows in
// the store's config.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'

t.test('a granted role runs the store and can change nothing else', async (t) => {
  const config = await freshStoreConfig(t)
  const role = `es_app_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`)
  t.teardown(async () => {
    await admin.unsafe(`DROP OWNED BY "${role}"`)
    await admin.unsafe(`DROP ROLE "${role}"`)
    await admin.end({ timeout: 1 })
  })
  await EventStore.grant(config, role)
  const url = new URL(config.url)
  url.username = role
  url.password = password
  const store = await EventStore.start({ ...config, url: url.href })
  t.teardown(() => store.stop())
  t.notOk(JSON.stringify(store.config).includes(password), 'the password is not in store.config')
  t.match(store.config.url, /:\*\*\*@/, 'the url shows *** in its place')

  await store.appendToStream('orders', 0, [{ eventType: 'Placed', data: { n: 1 } }, { eventType: 'Paid', data: { n: 2 } }])
  await store.appendToStream('orders', 'any_version', [{ eventType: 'Shipped', data: { n: 3 } }])
  const [placed] = await store.readStreamForward('orders')
  await store.linkToStream('placed', 'no_stream', [placed as never])
  t.same(numbersOf(await store.readAllStreamsForward()), [1, 2, 3])
  const inbox = new Inbox({ autoAck: true })
  const subscription = await store.subscribeToAllStreams('projector', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  t.same(numbersOf(await inbox.receiveEvents(3)), [1, 2, 3])
  await subscription.unsubscribe()
  await store.deleteSubscription('$all', 'projector')
  await store.recordSnapshot({ sourceUuid: 'order-1', sourceVersion: 3, sourceType: 'Order', data: { total: 1 }, metadata: {} })
  t.match(await store.readSnapshot('order-1'), { sourceVersion: 3 })
  await store.deleteSnapshot('order-1')
  await store.deleteStream('placed', 1)
  t.pass('append, link, read, subscribe, checkpoint, snapshots and soft delete all work')

  const asRole = postgres(url.href, { max: 1, onnotice: () => {}, connection: { search_path: config.schema } })
  t.teardown(() => asRole.end({ timeout: 1 }))
  for (const statement of ['DROP TABLE events', 'ALTER TABLE streams ADD COLUMN x int', 'TRUNCATE subscriptions', 'INSERT INTO schema_migrations (version, name) VALUES (99, $$x$$)', 'DELETE FROM events']) {
    await t.rejects(asRole.unsafe(statement), { code: '42501' }, `refused: ${statement}`)
  }
})
