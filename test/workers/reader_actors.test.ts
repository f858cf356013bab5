import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('reads spread over every worker thread: one reader actor on each', async (t) => {
  // Two threads with two connections each: only reads on both threads open all four.
  const config = await freshStoreConfig(t, { workers: 2, poolSize: 4 })
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(100))
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  for (let round = 0; round < 5; round += 1) await Promise.all(Array.from({ length: 40 }, () => store.readStreamForward('s')))
  const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${`pg-eventstore worker:${config.schema}`}`
  t.equal(row?.n, 4, 'both threads opened both their connections')
})

t.test('stop() lets the reads in flight finish', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  await store.appendToStream('s', 0, makeEvents(100))
  const reads = Array.from({ length: 30 }, () => store.readStreamForward('s'))
  await store.stop()
  const settled = await Promise.allSettled(reads)
  t.same(
    settled.map((r) => (r.status === 'fulfilled' ? r.value.length : r.reason)),
    reads.map(() => 100),
  )
  await t.rejects(store.readStreamForward('s'), { code: 'connection', message: 'the event store has been stopped' })
})
