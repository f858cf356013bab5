// stop({ signal, timeout }): the graceful stop waits for projections, subscriptions and the
// writer to finish; cut short, it refuses what is still queued, gives up on what is in flight
// (whose outcome it then calls unknown) and closes everything at once. Work is held up by
// table locks another session keeps.
import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { StoreReport } from '../../lib/reports.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { becomesTrue } from '../helpers/eventually.js'
import { holdLock } from '../helpers/locks.js'

t.test('stop({ timeout }) ends a held-up projection, a write in flight and a queued one, then resolves', async (t) => {
  const config = await freshStoreConfig(t)
  const admin = postgres(config.url, { max: 3, onnotice: () => {} })
  t.teardown(() => admin.end())
  const table = `"${config.schema}".projected`
  const store = await EventStore.start(config)
  let stopped = false
  t.teardown(() => (stopped ? undefined : store.stop()))
  await admin.unsafe(`CREATE TABLE ${table} (event_id uuid)`)
  const reports: StoreReport[] = []
  store.on('warning', (report) => reports.push(report))
  store.on('error', (report) => reports.push(report))

  const hold = (statement: string) => holdLock(admin, statement)
  const waiting = async () => Number((await admin`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE ${`%${config.schema}`}`)[0]?.n)

  const unlockProjected = await hold(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
  await store.appendToStream('linked', 0, makeEvents(1))
  const [target] = await store.readStreamForward('linked')
  const projection = await store.project('p', async (events, tx) => {
    for (const event of events) await tx.unsafe(`INSERT INTO ${table} VALUES ($1)`, [event.eventId])
  })
  t.ok(await becomesTrue(async () => (await waiting()) === 1), "the projection's batch waits for its table")

  const unlockAll = await hold(`SELECT 1 FROM "${config.schema}".streams WHERE stream_id = 0 FOR UPDATE`)
  const inFlight = store.appendToStream('s', 0, makeEvents(2))
  inFlight.catch(() => {})
  t.ok(await becomesTrue(async () => (await waiting()) === 2), 'the append waits for the $all row')
  // A link waits for the write before it: it is still queued when stop() comes.
  const queued = store.linkToStream('links', 0, [target?.eventId as string])
  queued.catch(() => {})

  const started = Date.now()
  await store.stop({ timeout: 300 })
  stopped = true
  const took = Date.now() - started
  t.ok(took < 4000, `stop() resolved ${took} ms after it was called (outcomeTimeout is 15 s)`)
  await t.rejects(queued, { code: 'connection', message: /stopped before this write was sent; nothing was written/ })
  await t.rejects(inFlight, { code: 'connection', details: { outcome: 'unknown' } })
  t.match(await projection.closed, { reason: 'stopped' })
  t.ok(
    reports.some((r) => /stop\(\) was cut short/.test(r.message)),
    'a warning says stop() was cut short',
  )

  await unlockAll()
  await unlockProjected()
  const [links] = await admin.unsafe(`SELECT count(*)::int AS n FROM "${config.schema}".links`)
  t.equal(links?.n, 0, 'the queued link was not written')
  const [rows] = await admin.unsafe(`SELECT count(*)::int AS n FROM ${table}`)
  t.equal(rows?.n, 0, "the projection's batch was rolled back")
  const [checkpoint] = await admin.unsafe(`SELECT last_seen::int AS n FROM "${config.schema}".subscriptions WHERE subscription_name = '$projection-p'`)
  t.equal(checkpoint?.n, 0, "the projection's checkpoint did not move")
})

t.test('stop() with an aborted signal closes without draining; bad options are refused and the store goes on', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  let stopped = false
  t.teardown(() => (stopped ? undefined : store.stop()))
  await t.rejects(store.stop({ timeout: -1 } as never), { code: 'invalid_argument' })
  await t.rejects(store.stop({ signal: 'now' } as never), { code: 'invalid_argument' })
  await store.appendToStream('s', 0, makeEvents(1))
  t.equal((await store.readStreamForward('s')).length, 1, 'the store still works after the refused calls')

  const reports: StoreReport[] = []
  store.on('warning', (report) => reports.push(report))
  await store.stop({ signal: AbortSignal.abort() })
  stopped = true
  t.ok(reports.some((r) => /stop\(\) was cut short/.test(r.message)), 'a warning says stop() was cut short')
  await t.rejects(store.appendToStream('s', 1, makeEvents(1)), { code: 'connection' })
  const check = await EventStore.start(config)
  t.teardown(() => check.stop())
  t.equal((await check.readStreamForward('s')).length, 1, 'what was written stays')
})
