import t from 'tap'
import type { EventStore } from '../../lib/event_store.js'
import { startStore } from '../helpers/database.js'

// Every call here must be refused with invalid_argument before anything is written.
type Call = [string, (store: EventStore) => Promise<unknown>]
const ok = { eventType: 'E', data: { fine: true } }
const hostile = `x'); DROP TABLE events; --`

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
