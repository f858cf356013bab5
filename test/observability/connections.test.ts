// status().connections: maxConnections shared out by kind, and the connections open now,
// counted on every thread; the store keeps one lock session and one LISTEN session whatever
// its threads, and refuses a projection the budget has no room for.
import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { becomesTrue } from '../helpers/eventually.js'
import { Inbox } from '../helpers/inbox.js'

t.test('the budget by kind, what is open, and two sessions whatever the threads', async (t) => {
  // 3 + poolSize 2 + 2 threads of 2: one connection left for projections.
  const config = await freshStoreConfig(t, { workers: 2, poolSize: 2, maxConnections: 10 })
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const idle = (await store.status()).connections
  t.match(idle, {
    max: 10,
    store: { max: 2 },
    writer: { max: 1 },
    workers: { max: 4 },
    projections: { max: 1 },
    lockSession: { max: 1 },
    listener: { max: 1 },
    sessions: { max: 2 },
  })
  // Subscriptions on both threads, reads on both, a projection: every kind at work.
  const inboxes = ['a', 'b', 'c', 'd'].map(() => new Inbox({ autoAck: true }))
  await Promise.all(inboxes.map((inbox, i) => store.subscribeToAllStreams(`sub-${i}`, inbox.subscriber)))
  for (const inbox of inboxes) await inbox.receive('subscribed', { within: 10_000 })
  await store.project('p', async () => {})
  await t.rejects(store.project('q', async () => {}), { code: 'invalid_argument', message: /budget has 0 left/ }, 'a second projection has no room')
  await store.appendToStream('s', 0, makeEvents(3))
  await Promise.all([store.readStreamForward('s'), store.readAllStreamsForward(0, 10), store.readAllStreamsForward(0, 10)])
  for (const inbox of inboxes) await inbox.receiveEvents(3, { within: 10_000 })
  const busy = (await store.status()).connections
  for (const kind of ['store', 'writer', 'workers', 'projections', 'lockSession', 'listener', 'sessions'] as const) {
    t.ok(busy[kind].open <= busy[kind].max, `${kind}: ${busy[kind].open} open of ${busy[kind].max}`)
  }
  t.ok(busy.open <= busy.max, `${busy.open} open of ${busy.max}`)
  t.match(busy, { writer: { open: 1 }, lockSession: { open: 1 }, listener: { open: 1 }, sessions: { open: 2 } })
  t.ok(busy.workers.open >= 1 && busy.projections.open === 1, 'worker pools and the projection counted from their threads and connections')

  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const [row] = await admin`
    SELECT count(*) FILTER (WHERE application_name LIKE 'pg-eventstore locks %') AS locks,
           count(*) FILTER (WHERE application_name LIKE 'pg-eventstore listener:%') AS listeners,
           count(*) AS total
    FROM pg_stat_activity WHERE application_name LIKE ${`%:${config.schema}`}`
  t.same({ locks: Number(row?.locks), listeners: Number(row?.listeners) }, { locks: 1, listeners: 1 }, 'the server sees one lock session and one LISTEN session')
  const now = (await store.status()).connections
  t.equal(Number(row?.total), now.open, `the server sees as many connections as are counted open (${JSON.stringify(now)})`)
  await store.stop()
  t.ok(await becomesTrue(async () => (await store.status().catch(() => null)) === null), 'stopped')
})
