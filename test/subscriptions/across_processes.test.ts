import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { eventually } from '../helpers/eventually.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'
import { spawnScript } from '../helpers/processes.js'

t.test('events appended by another process reach the subscription; 20 writers in 2 processes arrive in $all order', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('everything', inbox.subscriber, { bufferSize: 50 })
  await inbox.receive('subscribed')
  const children = ['p1', 'p2'].map((name) => spawnScript(t, 'fixtures/appender.ts', { URL: config.url, SCHEMA: config.schema, MODE: 'writers', NAME: name }))
  await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready')))
  for (const child of children) child.process.stdin?.write('go\n')
  const total = 2 * 10 * 20 * 3
  const events = await inbox.receiveEvents(total, { within: 60_000 })
  t.same(numbersOf(events), Array.from({ length: total }, (_, i) => i + 1), 'every event once, exactly in $all order')
  const all = await store.readAllStreamsForward(0, total)
  t.same(events.map((e) => e.eventId), all.map((e) => e.eventId), 'the same events $all holds')
  await store.appendToStream('sentinel', 0, makeEvents(1))
  t.same(numbersOf(await inbox.receiveEvents(1)), [total + 1], 'nothing delivered twice before the next event')
})

t.test('a second process waits on standby and takes over within 2 s when the holder is killed', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(3))
  const holder = spawnScript(t, 'fixtures/subscriber_process.ts', { URL: config.url, SCHEMA: config.schema, NAME: 'failover' })
  await holder.waitFor((l) => l === 'subscribed')
  await holder.waitFor((l) => l.includes('3'))
  const standby = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('failover', standby.subscriber)
  await standby.refuteReceive({ within: 1500 })
  t.pass('no subscribed message while the other process holds the subscription')
  await store.appendToStream('s', 3, makeEvents(1))
  await holder.waitFor((l) => l.includes('4'))
  // Its checkpoint 4 is in the database before it dies: only the database tells when.
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const checkpoint = async () => Number((await admin.unsafe(`SELECT last_seen FROM "${config.schema}".subscriptions WHERE subscription_name = 'failover'`))[0]?.last_seen)
  t.equal(await eventually(checkpoint, (stored) => stored === 4), 4, 'the holder stored its checkpoint')
  const killedAt = Date.now()
  holder.process.kill('SIGKILL')
  await standby.receive('subscribed', { within: 2500 })
  const tookOver = Date.now() - killedAt
  t.ok(tookOver <= 2000, `took over ${tookOver} ms after the holder died`)
  await store.appendToStream('s', 4, makeEvents(1))
  t.same(numbersOf(await standby.receiveEvents(1)), [5], 'resumed after the last checkpoint of the dead holder')
})

t.test('when the notification connection is killed, subscriptions catch up as soon as it is back', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const writer = await EventStore.start(config)
  t.teardown(() => writer.stop())
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('reconnect', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const killed = await admin`
    SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
    WHERE application_name = ${`pg-eventstore listener:${config.schema}`} AND query ILIKE 'listen%'`
  t.equal(killed.length, 1, 'the listening connection was found and terminated')
  const appendedAt = Date.now()
  await writer.appendToStream('while-down', 0, makeEvents(2))
  const events = await inbox.receiveEvents(2, { within: 5000 })
  t.comment(`caught up ${Date.now() - appendedAt} ms after the append`)
  t.same(events.map((e) => e.streamId), ['while-down', 'while-down'])
  await writer.appendToStream('after', 0, makeEvents(1))
  t.same((await inbox.receiveEvents(1)).map((e) => e.streamId), ['after'], 'notifications flow again')
})

t.test('a lost lock connection sends the subscription back to standby; it takes the lock again and resumes', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('relock', inbox.subscriber)
  await inbox.receive('subscribed')
  await store.appendToStream('s', 0, makeEvents(2))
  t.same(numbersOf(await inbox.receiveEvents(2)), [1, 2])
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const killed = await admin`
    SELECT pg_terminate_backend(l.pid) AS killed FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND a.application_name LIKE ${`pg-eventstore locks ${process.pid}@%`}`
  t.equal(killed.length, 1, 'the session holding the lock was terminated')
  await inbox.receive('subscribed', { within: 5000 })
  t.pass('the subscription took its lock again and said so')
  await store.appendToStream('s', 2, makeEvents(1))
  t.same(numbersOf(await inbox.receiveEvents(1)), [3], 'and resumed after its checkpoint')
})
