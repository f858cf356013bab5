// store.project: the handler's writes and the checkpoint commit in one transaction, so every
// event's effect is applied exactly once: through failures and retries, a SIGKILL of the
// projecting process mid-batch, and a standby taking over. Rows are counted against events.
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { RecordedEvent } from '../../lib/types.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { becomesTrue } from '../helpers/eventually.js'
import { spawnScript } from '../helpers/processes.js'

async function setUp(t: Test) {
  const config = await freshStoreConfig(t, { workers: 1, poolSize: 4 })
  const admin = postgres(config.url, { max: 2, onnotice: () => {}, connection: { search_path: config.schema } })
  t.teardown(() => admin.end())
  // No unique key: an event applied twice shows as a second row.
  await admin`CREATE TABLE projected (position bigint NOT NULL, stream text NOT NULL)`
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const rows = async () => Number((await admin`SELECT count(*) AS n FROM projected`)[0]?.n)
  const positions = async () => (await admin`SELECT position FROM projected ORDER BY position`).map((r) => Number(r.position))
  const checkpoint = async (name: string) => Number((await admin`SELECT last_seen FROM subscriptions WHERE subscription_name = ${`$projection-${name}`}`)[0]?.last_seen ?? -1)
  return { config, admin, store, rows, positions, checkpoint }
}

/** Rows and checkpoints change in the database, which tells no one: polled. */
const until = (check: () => Promise<boolean>, within = 15_000) => becomesTrue(check, within)

const insertAll = async (events: RecordedEvent[], tx: postgres.TransactionSql) => {
  for (const event of events) await tx`INSERT INTO projected (position, stream) VALUES (${event.eventNumber}, ${event.streamId})`
}

t.test('a projection writes each event once, with its checkpoint, in batches; live events follow', async (t) => {
  const { store, rows, positions, checkpoint } = await setUp(t)
  for (let i = 0; i < 5; i += 1) await store.appendToStream(`s-${i}`, 0, makeEvents(50))
  const batches: number[] = []
  const projection = await store.project('rows', async (events, tx) => {
    batches.push(events.length)
    await insertAll(events, tx)
  }, { batchSize: 100 })
  t.ok(await until(async () => (await rows()) === 250), 'caught up: 250 rows')
  t.same(batches.slice(0, 3), [100, 100, 50], 'catch-up in batches of batchSize')
  t.equal(await checkpoint('rows'), 250)
  await store.appendToStream('live', 0, makeEvents(3))
  t.ok(await until(async () => (await rows()) === 253), 'a live append is projected')
  t.same(await positions(), Array.from({ length: 253 }, (_, i) => i + 1), 'every position once')
  const status = (await store.status()).subscriptions.find((s) => s.name === '$projection-rows')
  t.match(status, { streamId: '$all', checkpoint: 253, head: 253, lag: { events: 0 } }, 'status() shows it')
  await projection.stop()
  t.match(await projection.closed, { reason: 'stopped', error: null })
})

t.test('a batch that throws rolls back and is tried again; one that keeps throwing stops the projection', async (t) => {
  const { store, rows, positions, checkpoint } = await setUp(t)
  await store.appendToStream('s', 0, makeEvents(30))
  let failures = 0
  const warnings: string[] = []
  store.on('warning', (report) => warnings.push(report.message))
  const flaky = await store.project('flaky', async (events, tx) => {
    await insertAll(events, tx)
    // After inserting: a batch that fails after writing must leave nothing behind.
    if (events.some((e) => e.eventNumber === 17) && failures < 2) {
      failures += 1
      throw new Error('flaky read model')
    }
  }, { batchSize: 10, retry: { attempts: 3, delay: 10 } })
  t.ok(await until(async () => (await rows()) === 30), 'all 30 rows in the end')
  t.same(await positions(), Array.from({ length: 30 }, (_, i) => i + 1), 'none twice, none missing')
  t.equal(failures, 2)
  t.ok(warnings.some((w) => /projection "flaky": a batch failed \(attempt 1 of 3\)/.test(w)), 'retries are reported as warnings')
  await flaky.stop()

  await store.appendToStream('s', 30, makeEvents(5))
  const errors: Error[] = []
  const broken = await store.project('broken', () => {
    throw new Error('always broken')
  }, { startFrom: 30, retry: { attempts: 2, delay: 10 } })
  broken.on('error', (error) => errors.push(error))
  const end = await broken.closed
  t.match(end, { reason: 'error', error: { message: /always broken/ } }, 'it stopped with the error')
  t.equal(errors.length, 1, "and emitted 'error'")
  t.equal(await checkpoint('broken'), 30, 'its checkpoint did not move')
})

t.test('a filtered projection gets only matches; its checkpoint reaches the head', async (t) => {
  const { store, rows, checkpoint } = await setUp(t)
  await store.appendToStream('noise', 0, makeEvents(40))
  await store.appendToStream('order-1', 0, [{ eventType: 'OrderPlaced', data: {} }])
  await store.appendToStream('noise', 40, makeEvents(9))
  const seen: string[] = []
  const projection = await store.project('orders', async (events, tx) => {
    seen.push(...events.map((e) => e.eventType))
    await insertAll(events, tx)
  }, { filter: { eventTypes: ['OrderPlaced'] } })
  t.ok(await until(async () => (await checkpoint('orders')) === 50), 'the checkpoint moved past the 49 others')
  t.same(seen, ['OrderPlaced'])
  t.equal(await rows(), 1)
  await projection.stop()
})

t.test('bad arguments are refused; one projection name runs once per store; a signal stops it', async (t) => {
  const { store } = await setUp(t)
  await t.rejects(store.project('', async () => {}), { code: 'invalid_argument' })
  await t.rejects(store.project('p', 'nope' as never), { code: 'invalid_argument' })
  await t.rejects(store.project('p', async () => {}, { batchSize: 0 }), { code: 'invalid_argument' })
  await t.rejects(store.project('p', async () => {}, { startFrom: 'later' as never }), { code: 'invalid_argument' })
  const controller = new AbortController()
  const projection = await store.project('p', async () => {}, { signal: controller.signal })
  await t.rejects(store.project('p', async () => {}), { code: 'subscription_already_exists' })
  controller.abort()
  t.match(await projection.closed, { reason: 'stopped' })
})

t.test('SIGKILL of the projecting process mid-batch: the standby here takes over, every event applied exactly once', async (t) => {
  const { config, store, rows, positions } = await setUp(t)
  const child = spawnScript(t, 'fixtures/projecting_process.ts', { URL: config.url, SCHEMA: config.schema, NAME: 'shared' })
  await child.waitFor((line) => line === 'projecting')
  for (let i = 0; i < 10; i += 1) await store.appendToStream(`k-${i}`, 0, makeEvents(20))
  t.ok(await until(async () => (await rows()) >= 20), 'the other process is projecting')
  const standby = await store.project('shared', insertAll, { batchSize: 7 })
  t.ok((await rows()) < 200, 'it is mid-way')
  child.process.kill('SIGKILL')
  t.ok(await until(async () => (await rows()) === 200, 30_000), 'the standby finished the work')
  t.same(await positions(), Array.from({ length: 200 }, (_, i) => i + 1), 'each event exactly once, none lost')
  await standby.stop()
})

t.test("a holder that lost its lock session cannot commit a stale batch: the row lock orders both", async (t) => {
  const { config, admin, store, rows, positions } = await setUp(t)
  const other = await EventStore.start(config)
  t.teardown(() => other.stop())
  await store.appendToStream('s', 0, makeEvents(60))
  // The second batch stays in flight here until the other store waits behind it.
  let inFlight = () => {}
  const batchInFlight = new Promise<void>((resolve) => (inFlight = resolve))
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const slow = await store.project('race', async (events, tx) => {
    await insertAll(events, tx)
    if (events[0]?.eventNumber === 6) {
      inFlight()
      await released
    }
  }, { batchSize: 5 })
  await batchInFlight
  // The holder's lock session dies: the other store takes the lock while a batch is in flight here.
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE ${`pg-eventstore locks ${process.pid}@%`}`
  const taker = await other.project('race', insertAll, { batchSize: 5 })
  const waitingOnRowLock = async () =>
    Number((await admin`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE ${`%:${config.schema}`} AND wait_event_type = 'Lock'`)[0]?.n)
  t.ok(await until(async () => (await waitingOnRowLock()) === 1), "the other store's batch waits for the checkpoint row")
  release()
  t.ok(await until(async () => (await rows()) === 60, 30_000), 'all 60 rows')
  t.same(await positions(), Array.from({ length: 60 }, (_, i) => i + 1), 'no event applied twice, though both ran batches')
  await Promise.all([slow.stop(), taker.stop()])
})

t.test('rebuildProjection clears the read model and sends the checkpoint back in one transaction; the projection replays', async (t) => {
  const { store, rows, positions } = await setUp(t)
  await store.appendToStream('s', 0, makeEvents(40))
  const projection = await store.project('rows', insertAll, { batchSize: 15 })
  t.ok(await until(async () => (await rows()) === 40))
  await store.rebuildProjection('rows', { reset: (tx) => tx`TRUNCATE projected` })
  t.ok(await until(async () => (await rows()) === 40), 'rebuilt')
  t.same(await positions(), Array.from({ length: 40 }, (_, i) => i + 1), 'each event once after the rebuild')
  await t.rejects(store.rebuildProjection('nope'), { code: 'subscription_not_found' })
  await t.rejects(store.rebuildProjection('rows', { reset: 'TRUNCATE' as never }), { code: 'invalid_argument' })
  await projection.stop()
})

t.test('pg-eventstore projection status | reset | rebuild', async (t) => {
  const { config, store, rows, positions } = await setUp(t)
  await store.appendToStream('s', 0, makeEvents(30))
  const projection = await store.project('cli', insertAll, { batchSize: 10 })
  t.teardown(() => projection.stop())
  t.ok(await until(async () => (await rows()) === 30))
  const cli = (...args: string[]) => spawnScript(t, '../lib/cli/main.ts', { DATABASE_URL: config.url }, [...args, '--schema', config.schema])
  const status = cli('projection', 'status', 'cli')
  t.equal(await status.exited, 0)
  t.match(JSON.parse(status.lines.find((l) => l.startsWith('{')) ?? '{}'), { name: '$projection-cli', checkpoint: 30, head: 30, holder: { pid: process.pid } })
  const refused = cli('projection', 'reset', 'cli')
  t.equal(await refused.exited, 1, 'reset without --reset-sql is refused')
  t.equal(await rows(), 30, 'and touched nothing')
  const rebuild = cli('projection', 'rebuild', 'cli', '--reset-sql', 'TRUNCATE projected')
  t.equal(await rebuild.exited, 0)
  t.ok(rebuild.lines.some((l) => /projection "cli" rebuilt: 30 events/.test(l)), rebuild.lines.join('\n'))
  t.same(await positions(), Array.from({ length: 30 }, (_, i) => i + 1), 'replayed once into the cleared table')
  t.equal(await cli('projection', 'status', 'nope').exited, 1)
})

t.test('an actor-module projection runs on a thread of its own with the same guarantees', async (t) => {
  const { store, rows, positions, checkpoint } = await setUp(t)
  const module = new URL('../fixtures/projection_module.js', import.meta.url)
  await store.appendToStream('s', 0, makeEvents(25))
  const projection = await store.project('module', module, { batchSize: 10 })
  t.ok(await until(async () => (await rows()) === 25), 'projected by the module')
  t.same(await positions(), Array.from({ length: 25 }, (_, i) => i + 1))
  t.equal(await checkpoint('module'), 25)
  await t.rejects(store.project('module', module), { code: 'subscription_already_exists' })
  await projection.stop()
  t.match(await projection.closed, { reason: 'stopped', error: null })
  await t.rejects(store.project('missing', new URL('../fixtures/no_such_module.js', import.meta.url)), { code: 'invalid_argument', message: /cannot load the projection module/ })

  await store.appendToStream('crash', 0, [{ eventType: 'E', data: { crash: true } }])
  const crashing = await store.project('module', module)
  const errors: Error[] = []
  crashing.on('error', (error) => errors.push(error))
  t.match(await crashing.closed, { reason: 'error', error: { message: /thread of projection "module" died/ } }, 'a crashed thread ends its projection only')
  t.equal(await checkpoint('module'), 25, 'the crashed batch did not commit')
  t.equal(await rows(), 25)
  t.equal(errors.length, 1)
  await store.appendToStream('after', 0, makeEvents(1))
  t.equal((await store.readStreamForward('after')).length, 1, 'the store goes on')
})

t.test("backends terminated under it: the projection waits out each lost connection and applies every event once", async (t) => {
  const { config, admin, store, rows, positions } = await setUp(t)
  const warnings: string[] = []
  store.on('warning', (report) => warnings.push(report.message))
  for (let i = 0; i < 4; i += 1) await store.appendToStream(`t-${i}`, 0, makeEvents(30))
  const projection = await store.project('survivor', async (events, tx) => {
    await insertAll(events, tx)
    await new Promise((r) => setTimeout(r, 20)) // each batch takes a while: terminations land mid-batch
  }, { batchSize: 5, retry: { attempts: 1 } })
  let stopped = false
  void projection.closed.then(() => (stopped = true))
  for (let i = 0; i < 6 && (await rows()) < 120; i += 1) {
    await new Promise((r) => setTimeout(r, 150)) // the fault's own pace
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE ${`%:${config.schema}`} AND pid <> pg_backend_pid()`
  }
  t.ok(await until(async () => (await rows()) === 120, 30_000), 'all 120 rows in the end')
  t.same(await positions(), Array.from({ length: 120 }, (_, i) => i + 1), 'none twice, none lost')
  t.equal(stopped, false, 'lost connections did not use up its one attempt: it still runs')
  t.ok(warnings.some((w) => w.includes('projection "survivor": PostgreSQL could not be reached')), 'each was reported as a warning')
  await projection.stop()
})
