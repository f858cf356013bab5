import t from 'tap'
import type { EventStore } from '../../lib/event_store.js'
import { startStore } from '../helpers/database.js'

// Every call here must be refused with invalid_argument before anything is written.
type Call = [string, (store: EventStore) => Promise<unknown>]
const ok = { eventType: 'E', data: { fine: true } }
const hostile = `x'); DROP TABLE events; --`
/** `{ a: { a: ... } }`, `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {}
  for (let i = 1; i < depth; i += 1) value = { a: value }
  return value
}

const calls: Call[] = [
  ['stream id empty', (s) => s.appendToStream('', 0, [ok])],
  ['stream id a number', (s) => s.appendToStream(42 as unknown as string, 0, [ok])],
  ['stream id null', (s) => s.appendToStream(null as unknown as string, 0, [ok])],
  ['stream id with NUL', (s) => s.appendToStream('a\u0000b', 0, [ok])],
  ['stream id with a lone surrogate', (s) => s.appendToStream('a\ud800', 0, [ok])],
  ['stream id too long', (s) => s.appendToStream('x'.repeat(1001), 0, [ok])],
  ['stream id $all', (s) => s.appendToStream('$all', 'any_version', [ok])],
  ['expected version negative', (s) => s.appendToStream('s', -1, [ok])],
  ['expected version a string number', (s) => s.appendToStream('s', '0' as unknown as number, [ok])],
  ['expected version unknown word', (s) => s.appendToStream('s', 'latest' as unknown as number, [ok])],
  ['events not an array', (s) => s.appendToStream('s', 0, ok as unknown as [])],
  ['events empty', (s) => s.appendToStream('s', 0, [])],
  ['event null', (s) => s.appendToStream('s', 0, [null as unknown as typeof ok])],
  ['event type missing', (s) => s.appendToStream('s', 0, [{ data: {} } as unknown as typeof ok])],
  ['event type empty', (s) => s.appendToStream('s', 0, [{ eventType: '', data: {} }])],
  ['data missing', (s) => s.appendToStream('s', 0, [{ eventType: 'E' } as unknown as typeof ok])],
  ['data with NaN', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: { x: Number.NaN } }])],
  ['data with a bigint', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: { x: 1n } }])],
  ['data with a NUL character', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: { x: '\u0000' } }])],
  ['metadata an array', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: {}, metadata: [] as unknown as Record<string, unknown> }])],
  ['metadata with a function', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: {}, metadata: { f: () => 1 } }])],
  ['event id not a UUID', (s) => s.appendToStream('s', 0, [{ ...ok, eventId: 'abc' }])],
  ['event id hostile', (s) => s.appendToStream('s', 0, [{ ...ok, eventId: hostile }])],
  ['causation id not a UUID', (s) => s.appendToStream('s', 0, [{ ...ok, causationId: '123' }])],
  ['correlation id a number', (s) => s.appendToStream('s', 0, [{ ...ok, correlationId: 5 as unknown as string }])],
  ['one bad event among good ones', (s) => s.appendToStream('s', 0, [ok, ok, { eventType: 'E', data: { x: Number.POSITIVE_INFINITY } }])],
  ['timeout negative', (s) => s.appendToStream('s', 0, [ok], { timeout: -5 })],
  ['signal not an AbortSignal', (s) => s.appendToStream('s', 0, [ok], { signal: {} as AbortSignal })],
  ['link with a bad id', (s) => s.linkToStream('s', 0, ['nope'])],
  ['read start negative', (s) => s.readStreamForward('s', -1)],
  ['read count zero', (s) => s.readStreamForward('s', 0, 0)],
  ['read count fractional', (s) => s.readAllStreamsForward(0, 1.5)],
  ['read backward start -2', (s) => s.readAllStreamsBackward(-2)],
  ['read stream id empty', (s) => s.readStreamBackward('')],
  ['stream info of a number', (s) => s.streamInfo(7 as unknown as string)],
  ['a sparse events array', (s) => s.appendToStream('s', 0, [, ok] as unknown as (typeof ok)[])],
  ['a sparse link list', (s) => s.linkToStream('s', 0, [, '0f6f7a1e-4b9d-4c8e-9a57-2d1f0c3b5e7a'] as unknown as string[])],
  ['an event whose getter throws', (s) => s.appendToStream('s', 0, [Object.defineProperty({ eventType: 'E' }, 'data', { get: () => { throw new Error('no data for you') }, enumerable: true }) as typeof ok])],
  ['data whose toJSON throws', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: { toJSON: () => { throw new Error('nope') } } }])],
  ['data nested 20,000 deep', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: nested(20_000) }])],
  ['data nested 1,001 deep', (s) => s.appendToStream('s', 0, [{ eventType: 'E', data: nested(1001) }])],
  ['a stream id of 900 CJK characters (2,700 bytes)', (s) => s.appendToStream('漢'.repeat(900), 0, [ok])],
  ['an event type of 400 emoji (1,600 bytes)', (s) => s.appendToStream('s', 0, [{ eventType: '😀'.repeat(400), data: {} }])],
  ['a subscription name of 900 CJK characters', (s) => s.subscribeToAllStreams('名'.repeat(900), () => {})],
  ['a subscriber module that does not exist', (s) => s.subscribeToAllStreams('m', '/no/such/subscriber.js')],
  ['iterator page size zero', async (s) => {
    for await (const _ of s.streamAllForward(0, { readBatchSize: 0 })) break
  }],
]

t.test('bad input is refused with invalid_argument and nothing is written', async (t) => {
  const store = await startStore(t)
  for (const [name, call] of calls) {
    await t.rejects(call(store), { code: 'invalid_argument', name: 'InvalidArgumentError' }, name)
  }
  t.same(await store.readAllStreamsForward(), [], 'no event was written')
  await t.rejects(store.streamInfo('s'), { code: 'stream_not_found' }, 'no stream was made')
})

t.test('hostile strings are stored verbatim where they are legal', async (t) => {
  const store = await startStore(t)
  await store.appendToStream(hostile, 0, [{ eventType: hostile, data: { hostile } }])
  const [event] = await store.readStreamForward(hostile)
  t.match(event, { streamId: hostile, eventType: hostile, data: { hostile } })
})

t.test('errors say what was wrong', async (t) => {
  const store = await startStore(t)
  const error = await store.appendToStream('s', 0, [{ eventType: 'E', data: { deep: { list: [1, Number.NaN] } } }]).catch((e: unknown) => e)
  t.match(error, { code: 'invalid_argument', message: /events\[0\]\.data\.deep\.list\[1\]/ })
})

t.test('data nested 1,000 deep is stored and read back', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('deep', 0, [{ eventType: 'E', data: nested(1000) }])
  const [event] = await store.readStreamForward('deep')
  let depth = 0
  for (let value = event?.data as Record<string, unknown> | undefined; value; value = value.a as Record<string, unknown> | undefined) depth += 1
  t.equal(depth, 1000)
})

t.test("one caller's bad input never fails another caller's append queued with it", async (t) => {
  const store = await startStore(t)
  const good = Array.from({ length: 20 }, (_, i) => store.appendToStream(`good-${i}`, 0, [ok]))
  const bad = [
    store.appendToStream('bad-sparse', 0, [, ok] as unknown as (typeof ok)[]),
    store.appendToStream('bad-deep', 0, [{ eventType: 'E', data: nested(20_000) }]),
    store.appendToStream('漢'.repeat(900), 0, [ok]),
  ]
  const results = await Promise.allSettled([...good, ...bad])
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
    [...Array(20).fill('ok'), ...Array(3).fill('invalid_argument')],
  )
  t.equal((await store.readAllStreamsForward()).length, 20)
})
