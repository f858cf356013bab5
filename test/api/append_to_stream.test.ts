import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('append to a new stream with expected version 0, then read it back', async (t) => {
  const store = await startStore(t)
  const causationId = randomUUID()
  const correlationId = randomUUID()
  const eventId = randomUUID()
  await store.appendToStream('stream-1', 0, [
    { eventType: 'First', data: { n: 1 }, metadata: { user: 'u@example.com' }, eventId, causationId, correlationId },
    ...makeEvents(2, 2),
  ])
  const events = await store.readStreamForward('stream-1')
  t.same(events.map((e) => [e.eventNumber, e.streamVersion, e.streamId]), [[1, 1, 'stream-1'], [2, 2, 'stream-1'], [3, 3, 'stream-1']])
  t.match(events[0], { eventId, eventType: 'First', data: { n: 1 }, metadata: { user: 'u@example.com' }, causationId, correlationId })
  t.ok(events[0]?.createdAt instanceof Date)
  t.ok(Math.abs((events[0]?.createdAt.getTime() ?? 0) - Date.now()) < 60_000, 'createdAt is now')
  t.equal(events[1]?.causationId, null)
  t.same(events[1]?.metadata, { source: 'test' })
})

t.test('every expected version form', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('numbered', 0, makeEvents(2))
  await store.appendToStream('numbered', 2, makeEvents(1, 3))
  await t.rejects(store.appendToStream('numbered', 2, makeEvents(1)), { code: 'wrong_expected_version', details: { expected: 2, actual: 3 } })
  await t.rejects(store.appendToStream('numbered', 0, makeEvents(1)), { code: 'wrong_expected_version' })
  await t.rejects(store.appendToStream('never', 1, makeEvents(1)), { code: 'wrong_expected_version' })

  await store.appendToStream('any', 'any_version', makeEvents(1))
  await store.appendToStream('any', 'any_version', makeEvents(1, 2))

  await store.appendToStream('fresh', 'no_stream', makeEvents(1))
  await t.rejects(store.appendToStream('fresh', 'no_stream', makeEvents(1)), { code: 'stream_exists' })

  await t.rejects(store.appendToStream('absent', 'stream_exists', makeEvents(1)), { code: 'stream_not_found' })
  await store.appendToStream('fresh', 'stream_exists', makeEvents(1, 2))

  t.same((await store.readStreamForward('numbered')).map((e) => e.data), [{ n: 1 }, { n: 2 }, { n: 3 }])
  t.equal((await store.readStreamForward('any')).length, 2)
  t.equal((await store.readStreamForward('fresh')).length, 2)
  await t.rejects(store.readStreamForward('absent'), { code: 'stream_not_found' })
  await t.rejects(store.readStreamForward('never'), { code: 'stream_not_found' })
  t.equal((await store.streamInfo('$all')).streamVersion, 7, 'refused appends took no position')
})

t.test('a failing append in a batch does not fail the others queued with it', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('taken', 0, makeEvents(1))
  const duplicateId = randomUUID()
  await store.appendToStream('owner', 0, [{ eventType: 'E', data: {}, eventId: duplicateId }])
  // Issued in one tick, so the writer takes them as one batch.
  const results = await Promise.allSettled([
    store.appendToStream('a', 0, makeEvents(2)),
    store.appendToStream('taken', 0, makeEvents(1)),
    store.appendToStream('b', 'stream_exists', makeEvents(1)),
    store.appendToStream('c', 'any_version', [{ eventType: 'E', data: {}, eventId: duplicateId }]),
    store.appendToStream('d', 'no_stream', makeEvents(3)),
  ])
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
    ['ok', 'wrong_expected_version', 'stream_not_found', 'duplicate_event', 'ok'],
  )
  const all = await store.readAllStreamsForward()
  t.same(all.map((e) => e.eventNumber), [1, 2, 3, 4, 5, 6, 7], '$all has no gap where refused appends were')
  t.same(all.map((e) => e.streamId), ['taken', 'owner', 'a', 'a', 'd', 'd', 'd'])
  await t.rejects(store.readStreamForward('c'), { code: 'stream_not_found' }, 'nothing of the duplicate append was written')
})

t.test('events the writer refuses as it takes them fail their own append only, in either half of a burst', async (t) => {
  const store = await startStore(t)
  // The writer checks events as it takes each append: the first half of these ten before
  // anything is sent, the second half while the first is written (lib/writer/batching.ts).
  const bad = new Set([2, 7])
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      store.appendToStream(`burst-${i}`, 0, bad.has(i) ? [{ eventType: 'E', data: { n: Number.NaN } }] : makeEvents(1)),
    ),
  )
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
    Array.from({ length: 10 }, (_, i) => (bad.has(i) ? 'invalid_argument' : 'ok')),
  )
  t.match((results[7] as PromiseRejectedResult).reason.message, /events\[0\]\.data\.n cannot be stored as JSON/)
  const all = await store.readAllStreamsForward()
  t.same(
    all.map((e) => e.streamId),
    [0, 1, 3, 4, 5, 6, 8, 9].map((i) => `burst-${i}`),
    'the others are written, in order and without a gap',
  )
  t.same(all.map((e) => e.eventNumber), [1, 2, 3, 4, 5, 6, 7, 8])
})

t.test('an event id is stored once, across streams and within one append', async (t) => {
  const store = await startStore(t)
  const id = randomUUID()
  await store.appendToStream('one', 0, [{ eventType: 'E', data: {}, eventId: id }])
  await t.rejects(store.appendToStream('two', 0, [{ eventType: 'E', data: {}, eventId: id.toUpperCase() }]), { code: 'duplicate_event' })
  const other = randomUUID()
  await t.rejects(
    store.appendToStream('three', 0, [
      { eventType: 'E', data: {}, eventId: other },
      { eventType: 'E', data: {}, eventId: other },
    ]),
    { code: 'duplicate_event' },
  )
  await t.rejects(store.readStreamForward('two'), { code: 'stream_not_found' })
  await t.rejects(store.readStreamForward('three'), { code: 'stream_not_found' })
})

t.test('appending to $all is refused', async (t) => {
  const store = await startStore(t)
  await t.rejects(store.appendToStream('$all', 'any_version', makeEvents(1)), { code: 'invalid_argument' })
  t.same(await store.readAllStreamsForward(), [])
})

t.test('10,000 events in one append are atomic and in order', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('big', 0, makeEvents(10_000))
  const info = await store.streamInfo('big')
  t.equal(info.streamVersion, 10_000)
  const last = await store.readStreamBackward('big', -1, 1)
  t.same(last[0]?.data, { n: 10_000 })
  // A second 10,000-event append that fails its check writes none of its events.
  await t.rejects(store.appendToStream('big', 0, makeEvents(10_000)), { code: 'wrong_expected_version' })
  t.equal((await store.streamInfo('$all')).streamVersion, 10_000)
  let count = 0
  let expected = 1
  for await (const event of store.streamForward('big', 0, { readBatchSize: 3000 })) {
    if (event.streamVersion !== expected) break
    expected += 1
    count += 1
  }
  t.equal(count, 10_000)
})

t.test('appends racing on one stream: many batches, every version once', async (t) => {
  const store = await startStore(t)
  const writers = Array.from({ length: 50 }, (_, i) => store.appendToStream('shared', 'any_version', makeEvents(2, i * 2)))
  await Promise.all(writers)
  const events = await store.readStreamForward('shared')
  t.same(events.map((e) => e.streamVersion), Array.from({ length: 100 }, (_, i) => i + 1))
  const all = await store.readAllStreamsForward()
  t.same(all.map((e) => e.eventNumber), Array.from({ length: 100 }, (_, i) => i + 1))
})
