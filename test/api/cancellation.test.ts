// { signal, timeout } on reads: an aborted or timed-out read rejects at once, its statement is
// cancelled in PostgreSQL (the worker's connection is free again), and an iterator's
// `for await` just ends. Reads are held up by a lock another session keeps on the events table.
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { connectionBudget } from '../../lib/config.js'
import { EventStore } from '../../lib/event_store.js'
import type { RecordedEvent } from '../../lib/types.js'
import { freshStoreConfig } from '../helpers/database.js'
import { faultProxy } from '../helpers/fault_proxy.js'
import { Recorded } from '../helpers/changes.js'
import { makeEvents } from '../helpers/events.js'
import { becomesTrue } from '../helpers/eventually.js'
import { Inbox } from '../helpers/inbox.js'
import { holdLock } from '../helpers/locks.js'

async function setUp(t: Test) {
  const config = await freshStoreConfig(t, { workers: 1, poolSize: 4 })
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(10))
  const admin = postgres(config.url, { max: 2, onnotice: () => {} })
  t.teardown(() => admin.end())
  /** Holds an exclusive lock on a table (events by default) until the returned function is called. */
  const lockEvents = (table = 'events') => holdLock(admin, `LOCK TABLE "${config.schema}".${table} IN ACCESS EXCLUSIVE MODE`)
  const backends = async (role: string, condition: string) =>
    Number((await admin.unsafe(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND ${condition}`, [`${role}:${config.schema}`]))[0]?.n)
  /** Statements of this store's worker (or main pool) waiting for a lock. */
  const waitingReads = (role = 'pg-eventstore worker') => backends(role, `wait_event_type = 'Lock'`)
  /** Statements or transactions of the main pool not finished yet: PostgreSQL tells no one when they end. */
  const busy = () => backends('pg-eventstore', `state <> 'idle'`)
  return { store, config, admin, lockEvents, waitingReads, busy }
}

t.test('a read past its timeout rejects with timeout and its statement is cancelled', async (t) => {
  const { store, lockEvents, waitingReads } = await setUp(t)
  const unlock = await lockEvents()
  t.teardown(unlock)
  const started = Date.now()
  await t.rejects(store.readStreamForward('s', 0, 10, { timeout: 200 }), { code: 'timeout' })
  t.ok(Date.now() - started < 2000, `rejected after ${Date.now() - started} ms`)
  t.ok(await becomesTrue(async () => (await waitingReads()) === 0), 'no statement of the store waits on the lock any more')
  await unlock()
  t.equal((await store.readStreamForward('s', 0, 10, { timeout: 5000 })).length, 10, 'reads go on')
})

t.test('aborting reads frees their worker connections: more aborted reads than connections, then a read', async (t) => {
  const { store, lockEvents, waitingReads } = await setUp(t)
  const unlock = await lockEvents()
  t.teardown(unlock)
  const controller = new AbortController()
  const reads = Array.from({ length: 6 }, () => store.readAllStreamsForward(0, 10, { signal: controller.signal }))
  t.ok(await becomesTrue(async () => (await waitingReads()) >= 1), 'reads are waiting on the lock')
  controller.abort(new Error('user left'))
  for (const read of reads) await t.rejects(read, { code: 'aborted' })
  t.ok(await becomesTrue(async () => (await waitingReads()) === 0), 'their statements were cancelled')
  await unlock()
  t.equal((await store.readAllStreamsForward(0, 100, { timeout: 5000 })).length, 10, 'the next read gets a connection at once')
})

t.test('reads aborted while their connections are being opened leave those connections to the next read', async (t) => {
  const config = await freshStoreConfig(t, { workers: 1, poolSize: 4 })
  const proxy = await faultProxy(t, config.url)
  const store = await EventStore.start({ ...config, url: proxy.url })
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(3))
  proxy.hold(true)
  const accepted = proxy.accepted
  const { connectionsPerWorker } = connectionBudget(null, 4, 1)
  // More reads than the worker has connections: it opens all of them (held), the rest queue.
  const controller = new AbortController()
  const reads = Array.from({ length: connectionsPerWorker + 2 }, () => store.readStreamForward('s', 0, 10, { signal: controller.signal }))
  t.ok(await becomesTrue(async () => proxy.accepted - accepted === connectionsPerWorker, 20_000), 'each worker connection is being opened')
  controller.abort(new Error('user left'))
  for (const read of reads) await t.rejects(read, { code: 'aborted' })
  proxy.hold(false)
  t.equal((await store.readStreamForward('s', 0, 10, { timeout: 5000 })).length, 3, 'the next read gets a connection')
})

t.test('an already aborted signal reads nothing; a bad signal or timeout is refused', async (t) => {
  const { store } = await setUp(t)
  await t.rejects(store.readStreamForward('s', 0, 10, { signal: AbortSignal.abort() }), { code: 'aborted' })
  await t.rejects(store.streamInfo('s', { signal: AbortSignal.abort() }), { code: 'aborted' })
  await t.rejects(store.readStreamForward('s', 0, 10, { signal: 'stop' as never }), { code: 'invalid_argument' })
  await t.rejects(store.readAllStreamsForward(0, 10, { timeout: -1 }), { code: 'invalid_argument' })
  await t.rejects(store.paginateStreams({ timeout: 0 }), { code: 'invalid_argument' })
})

t.test('an aborted iterator ends its for-await loop cleanly', async (t) => {
  const { store } = await setUp(t)
  for (const iterate of [
    (signal: AbortSignal) => store.streamForward('s', 0, { readBatchSize: 2, signal }),
    (signal: AbortSignal) => store.streamAllForward(0, { readBatchSize: 2, signal }),
    (signal: AbortSignal) => store.streamBackward('s', -1, { readBatchSize: 2, signal }),
  ]) {
    const controller = new AbortController()
    const seen: RecordedEvent[] = []
    for await (const event of iterate(controller.signal)) {
      seen.push(event)
      if (seen.length === 3) controller.abort()
    }
    t.equal(seen.length, 4, 'the page in hand is finished, then the loop ends')
  }
})

t.test('an iterator whose page is held up past its timeout rejects with timeout', async (t) => {
  const { store, lockEvents } = await setUp(t)
  const unlock = await lockEvents()
  t.teardown(unlock)
  const iterate = async () => {
    for await (const _ of store.streamForward('s', 0, { timeout: 200 })) void _
  }
  await t.rejects(iterate(), { code: 'timeout' })
})

t.test('snapshot calls take { signal, timeout } too, and cancel their statement', async (t) => {
  const { store, lockEvents, waitingReads } = await setUp(t)
  await store.recordSnapshot({ sourceUuid: 'a', sourceVersion: 1, sourceType: 'T', data: { n: 1 } }, { timeout: 5000 })
  const unlock = await lockEvents('snapshots')
  t.teardown(unlock)
  await t.rejects(store.readSnapshot('a', { timeout: 200 }), { code: 'timeout' })
  const controller = new AbortController()
  const deleting = store.deleteSnapshot('a', { signal: controller.signal })
  t.ok(await becomesTrue(async () => (await waitingReads('pg-eventstore')) === 1), 'the delete waits on the lock')
  controller.abort()
  await t.rejects(deleting, { code: 'aborted' })
  t.ok(await becomesTrue(async () => (await waitingReads('pg-eventstore')) === 0), 'no statement of the main pool waits on the lock')
  await unlock()
  t.match(await store.readSnapshot('a'), { sourceVersion: 1, data: { n: 1 } }, 'the cancelled delete did not happen')
})

t.test('a subscription stops when its signal aborts; a transient one too; an aborted signal refuses to start', async (t) => {
  const { store } = await setUp(t)
  const controller = new AbortController()
  const inbox = new Inbox({ autoAck: true })
  const subscription = await store.subscribeToAllStreams('stoppable', inbox.subscriber, { signal: controller.signal, bufferSize: 20 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(10)
  controller.abort()
  t.match(await subscription.closed, { reason: 'unsubscribed', error: null }, 'aborting stopped it')
  await t.rejects(store.subscribeToAllStreams('late', inbox.subscriber, { signal: AbortSignal.abort() }), { code: 'aborted' })
  await t.rejects(store.subscribeToAllStreams('bad', inbox.subscriber, { signal: {} as never }), { code: 'invalid_argument' })

  const transient = new AbortController()
  const seen = new Recorded<unknown>()
  await store.subscribe('s', seen.push, { signal: transient.signal })
  // Still subscribed after the abort: what it sees, the aborted one would have seen by then.
  const witness = new Recorded<unknown>()
  await store.subscribe('s', witness.push)
  await store.appendToStream('s', 10, makeEvents(1))
  await seen.until(() => seen.items.length > 0)
  transient.abort()
  // The stop the signal starts tells no one when it is done; status lists the subscription until then.
  const transients = async () => (await store.status()).subscriptions.filter((s) => s.streamId === 's' && s.name.startsWith('$transient-')).length
  t.ok(await becomesTrue(async () => (await transients()) === 1), 'the aborted subscription stopped')
  await store.appendToStream('s', 11, makeEvents(1))
  await witness.until(() => witness.items.length === 2)
  t.equal(seen.items.length, 1, 'after the abort, nothing more is delivered')
  await t.rejects(store.subscribe('s', () => {}, { timeout: 0 }), { code: 'invalid_argument' })
})

t.test('rebuildProjection held up behind a batch in flight times out and resets nothing', async (t) => {
  const { store, config, admin, busy } = await setUp(t)
  const projection = await store.project('p', async () => {})
  const checkpoint = async () => Number((await admin.unsafe(`SELECT last_seen FROM "${config.schema}".subscriptions WHERE subscription_name = '$projection-p'`))[0]?.last_seen)
  t.ok(await becomesTrue(async () => (await checkpoint()) === 10), 'the projection caught up')
  await t.rejects(projection.stop({ timeout: 'soon' } as never), { code: 'invalid_argument' })
  await projection.stop({ timeout: 5000 })

  // The checkpoint row held as a batch in flight holds it.
  const release = await holdLock(admin, `SELECT 1 FROM "${config.schema}".subscriptions WHERE subscription_name = '$projection-p' FOR UPDATE`)
  const marks = `"${config.schema}".reset_marks`
  await admin.unsafe(`CREATE TABLE ${marks} (n int)`)
  await t.rejects(store.rebuildProjection('p', { timeout: 200, reset: (tx) => tx.unsafe(`INSERT INTO ${marks} VALUES (1)`) }), { code: 'timeout' })
  await release()
  // The cancel may reach PostgreSQL after the lock was released: then the reset runs, and is rolled back.
  t.ok(await becomesTrue(async () => (await busy()) === 0), 'the timed-out rebuild ended in PostgreSQL too')
  t.equal(Number((await admin.unsafe(`SELECT count(*) AS n FROM ${marks}`))[0]?.n), 0, "the reset's writes were not committed")
  await t.rejects(store.rebuildProjection('p', { signal: AbortSignal.abort() }), { code: 'aborted' })
  t.ok(await becomesTrue(async () => (await busy()) === 0), 'nothing of it runs in PostgreSQL')
  t.equal(await checkpoint(), 10, 'the checkpoint did not move')
  await t.rejects(store.rebuildProjection('p', { timeout: 'soon' } as never), { code: 'invalid_argument' })
  await store.rebuildProjection('p', { timeout: 5000 })
  t.equal(await checkpoint(), 0, 'a rebuild in time sends it back')
})

t.test('unsubscribe, deleteSubscription and status take { signal, timeout }', async (t) => {
  const { store } = await setUp(t)
  const inbox = new Inbox({ autoAck: true })
  const subscription = await store.subscribeToStream('s', 'sub', inbox.subscriber)
  await inbox.receive('subscribed')
  await t.rejects(store.unsubscribeFromStream('s', 'sub', { signal: AbortSignal.abort() }), { code: 'aborted' })
  await t.rejects(subscription.unsubscribe({ signal: AbortSignal.abort() }), { code: 'aborted' })
  await t.rejects(subscription.unsubscribe({ signal: 'x' } as never), { code: 'invalid_argument' })
  await t.rejects(store.unsubscribeFromAllStreams('sub', { timeout: -1 }), { code: 'invalid_argument' })
  t.equal((await store.status({ timeout: 5000 })).subscriptions.find((s) => s.name === 'sub')?.state !== 'stopped', true, 'an aborted unsubscribe left it running')
  await store.unsubscribeFromStream('s', 'sub', { timeout: 5000 })
  t.match(await subscription.closed, { reason: 'unsubscribed' })
  await t.rejects(store.deleteSubscription('s', 'sub', { signal: AbortSignal.abort() }), { code: 'aborted' })
  await store.deleteSubscription('s', 'sub', { timeout: 5000 })
  t.notOk((await store.status()).subscriptions.some((s) => s.name === 'sub'), 'deleted')
  await t.rejects(store.status({ signal: AbortSignal.abort() }), { code: 'aborted' })
})
