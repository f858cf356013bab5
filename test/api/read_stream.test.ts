import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig, startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

const numbers = (events: { eventNumber: number }[]) => events.map((e) => e.eventNumber)

t.test('read a stream forward and backward with start and count', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(10))
  await store.appendToStream('other', 0, makeEvents(2))
  t.same(numbers(await store.readStreamForward('s')), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.same(numbers(await store.readStreamForward('s', 1, 3)), [1, 2, 3])
  t.same(numbers(await store.readStreamForward('s', 8)), [8, 9, 10])
  t.same(await store.readStreamForward('s', 11), [], 'past the end of an existing stream: empty')
  t.same(numbers(await store.readStreamBackward('s')), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
  t.same(numbers(await store.readStreamBackward('s', -1, 2)), [10, 9])
  t.same(numbers(await store.readStreamBackward('s', 3)), [3, 2, 1])
  t.same(numbers(await store.readStreamBackward('s', 20, 2)), [10, 9])
  t.same(await store.readStreamBackward('s', 0), [])
})

t.test('read $all forward and backward; $all as a stream id', async (t) => {
  const store = await startStore(t)
  t.same(await store.readAllStreamsForward(), [], 'an empty store reads empty')
  await store.appendToStream('a', 0, makeEvents(2))
  await store.appendToStream('b', 0, makeEvents(3))
  await store.appendToStream('a', 2, makeEvents(1, 3))
  const all = await store.readAllStreamsForward()
  t.same(all.map((e) => [e.eventNumber, e.streamId, e.streamVersion]), [
    [1, 'a', 1], [2, 'a', 2], [3, 'b', 1], [4, 'b', 2], [5, 'b', 3], [6, 'a', 3],
  ])
  t.same(numbers(await store.readAllStreamsForward(4, 2)), [4, 5])
  t.same(numbers(await store.readAllStreamsBackward()), [6, 5, 4, 3, 2, 1])
  t.same(numbers(await store.readAllStreamsBackward(2)), [2, 1])
  t.same(numbers(await store.readStreamForward('$all', 5)), [5, 6])
  t.same(numbers(await store.readStreamBackward('$all', -1, 1)), [6])
})

t.test('lazy iterators read page by page, forward and backward', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(25))
  await store.appendToStream('t', 0, makeEvents(5))
  const collect = async (iterable: AsyncIterable<{ eventNumber: number }>) => {
    const seen: number[] = []
    for await (const event of iterable) seen.push(event.eventNumber)
    return seen
  }
  const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from < to ? from + i : from - i))
  t.same(await collect(store.streamForward('s', 0, { readBatchSize: 7 })), range(1, 25))
  t.same(await collect(store.streamForward('s', 10, { readBatchSize: 5 })), range(10, 25))
  t.same(await collect(store.streamBackward('s', -1, { readBatchSize: 4 })), range(25, 1))
  t.same(await collect(store.streamBackward('s', 6, { readBatchSize: 5 })), range(6, 1))
  t.same(await collect(store.streamAllForward(0, { readBatchSize: 10 })), range(1, 30))
  t.same(await collect(store.streamAllBackward(-1, { readBatchSize: 8 })), range(30, 1))
  t.same(await collect(store.streamForward('s', 0, { readBatchSize: 25 })), range(1, 25), 'a last page exactly full')
  await t.rejects(collect(store.streamForward('missing')), { code: 'stream_not_found' })
})

t.test('an iterator holds one page at a time: later appends are seen by later pages', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('grow', 0, makeEvents(4))
  const seen: number[] = []
  for await (const event of store.streamForward('grow', 0, { readBatchSize: 2 })) {
    seen.push(event.eventNumber)
    if (event.eventNumber === 2) await store.appendToStream('grow', 4, makeEvents(2, 5))
  }
  t.same(seen, [1, 2, 3, 4, 5, 6])
})

t.test('streamAllForward: an empty store, a start past the end, and events committed while iterating', async (t) => {
  const store = await startStore(t)
  const numbers = async (start: number, pageSize: number, during?: (n: number) => Promise<void>) => {
    const seen: number[] = []
    for await (const event of store.streamAllForward(start, { readBatchSize: pageSize })) {
      seen.push(event.eventNumber)
      await during?.(event.eventNumber)
    }
    return seen
  }
  t.same(await numbers(0, 3), [], 'nothing in $all yet')
  await store.appendToStream('a', 0, makeEvents(7))
  t.same(await numbers(8, 3), [], 'a start past the last position')
  // Each window learns the last committed position; pages after it include events appended meanwhile.
  const seen = await numbers(0, 3, async (n) => {
    if (n === 2) await store.appendToStream('b', 0, makeEvents(5))
  })
  t.same(seen, Array.from({ length: 12 }, (_, i) => i + 1))
})

t.test('values round-trip exactly', async (t) => {
  const store = await startStore(t)
  const data = { text: 'ünïcödé 🎉 "quoted" \\ back\nline', int: 9007199254740991, float: 0.1, neg: -5, nested: { list: [true, false, null], empty: {} } }
  await store.appendToStream('values', 0, [{ eventType: 'Ünïcode "type"', data }, { eventType: 'Scalar', data: 'just a string' }, { eventType: 'Null', data: null }])
  const [first, second, third] = await store.readStreamForward('values')
  t.same(first?.data, data)
  t.equal(first?.eventType, 'Ünïcode "type"')
  t.equal(second?.data, 'just a string')
  t.equal(third?.data, null)
  // Stream ids and event types travel as array elements: quotes, commas, braces, backslashes, newlines.
  const odd = 'odd "id", {braces} \\ back\nline NULL'
  await store.appendToStream(odd, 0, [{ eventType: 'type, "with" {all}\n\\', data: { n: 1 } }])
  await store.linkToStream('linked', 'any_version', [(await store.readStreamForward(odd))[0]?.eventId as string])
  const [linked] = await store.readStreamForward('linked')
  t.match(linked, { streamId: odd, eventType: 'type, "with" {all}\n\\', data: { n: 1 } })
})

t.test('createdAt is the stored time cut to the millisecond, in every kind of read', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  // One event per append, so each has its own now(): 30 random sub-millisecond parts, which
  // would show a rounding (instead of a cut) with near certainty.
  for (let i = 0; i < 30; i += 1) await store.appendToStream(i % 2 ? 'odd' : 'even', 'any_version', makeEvents(1))
  const sql = postgres(config.url, { max: 1, onnotice: () => {}, connection: { search_path: config.schema } })
  t.teardown(() => sql.end())
  // The oracle: exact numeric arithmetic on the stored timestamps.
  const stored = new Map<string, number>()
  for (const row of await sql<{ event_id: string; ms: string }[]>`SELECT event_id, floor(extract(epoch FROM created_at) * 1000) AS ms FROM events`) stored.set(row.event_id, Number(row.ms))
  t.equal(stored.size, 30)
  const allForward: { eventId: string; createdAt: Date }[] = []
  for await (const event of store.streamAllForward()) allForward.push(event)
  const reads = {
    'stream forward': await store.readStreamForward('even'),
    'stream backward': await store.readStreamBackward('odd'),
    '$all forward': await store.readAllStreamsForward(),
    '$all backward': await store.readAllStreamsBackward(),
    '$all window (streamAllForward)': allForward,
  }
  for (const [read, events] of Object.entries(reads)) {
    t.ok(events.length >= 15, `${read} read events`)
    t.same(events.map((e) => e.createdAt.getTime()), events.map((e) => stored.get(e.eventId)), read)
  }
})

t.test('stream info', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('s', 0, makeEvents(3))
  const info = await store.streamInfo('s')
  t.match(info, { streamId: 's', streamVersion: 3, deletedAt: null, status: 'created' })
  t.ok(info.createdAt instanceof Date)
  await t.rejects(store.streamInfo('missing'), { code: 'stream_not_found' })
  t.match(await store.streamInfo('$all'), { streamId: '$all', streamVersion: 3 })
})

t.test('a read returns at most maxReadCount events; above it the iterators are named and nothing is read', async (t) => {
  const byDefault = await startStore(t)
  await byDefault.appendToStream('s', 0, makeEvents(3))
  t.same(numbers(await byDefault.readAllStreamsForward(0, 10_000)), [1, 2, 3], 'the default maximum itself is allowed')
  for (const [read, iterator] of [
    [() => byDefault.readStreamForward('s', 0, 10_001), 'streamForward'],
    [() => byDefault.readStreamBackward('s', -1, 10_001), 'streamBackward'],
    [() => byDefault.readAllStreamsForward(1, 2 ** 31 - 1), 'streamAllForward'],
    [() => byDefault.readAllStreamsBackward(-1, 10_001), 'streamAllBackward'],
  ] as const) {
    const error = await read().then(() => null, (e: unknown) => e as { code: string; message: string; details: unknown })
    t.match(error, { code: 'invalid_argument', details: { argument: 'count', max: 10_000 } }, `${iterator}: refused`)
    t.match(error?.message, iterator, 'the message points at the iterator')
  }

  const small = await startStore(t, { maxReadCount: 2 })
  await small.appendToStream('s', 0, makeEvents(5))
  t.same(numbers(await small.readStreamForward('s', 0, 2)), [1, 2])
  await t.rejects(small.readStreamForward('s', 0, 3), { code: 'invalid_argument', details: { max: 2 } })
  await t.rejects(small.streamForward('s', 0, { readBatchSize: 3 })[Symbol.asyncIterator]().next(), { code: 'invalid_argument', details: { argument: 'readBatchSize' } })
  const iterated: number[] = []
  for await (const event of small.streamAllForward(0, { readBatchSize: 2 })) iterated.push(event.eventNumber)
  t.same(iterated, [1, 2, 3, 4, 5], 'an iterator reads any number of events, one bounded page at a time')
})
