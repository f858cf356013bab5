// Fuzz: every public method, called with hostile values (fast-check's anything(), odd
// strings, sparse arrays, objects whose getters throw), resolves or rejects with an
// EventStoreError carrying a documented code: never a raw TypeError, never a crash, never a
// hang.
import fc from 'fast-check'
import t from 'tap'
import { EventStoreError } from '../../lib/errors.js'
import type { EventStore } from '../../lib/event_store.js'
import { startStore } from '../helpers/database.js'

const CODES = new Set([
  'wrong_expected_version', 'stream_exists', 'stream_not_found', 'stream_deleted', 'duplicate_event', 'subscription_already_exists',
  'subscription_not_found', 'snapshot_not_found', 'invalid_argument', 'timeout', 'aborted',
])

const throwingGetter = Object.defineProperty({}, 'eventType', { get: () => { throw new Error('hostile getter') }, enumerable: true })
const hostile = fc.oneof(
  fc.anything(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('$all', '', '\u0000', '\ud800', '漢'.repeat(400), 'x'.repeat(1001), -1, Number.NaN, 2 ** 53, -0, [], [,], [null], throwingGetter, [throwingGetter], [{ eventType: 'E', data: { toJSON: () => { throw new Error('hostile toJSON') } } }]),
  fc.array(fc.oneof(fc.anything(), fc.record({ eventType: fc.anything(), data: fc.anything(), metadata: fc.anything(), eventId: fc.anything() })), { maxLength: 3 }),
)

/** Plausible values, so that hostile ones also reach the checks behind the first argument's. */
const plausible = fc.constantFrom('fuzz-s', 'any_version', 0, 1, 10, [{ eventType: 'E', data: {} }], {}, 'soft')
const argument = fc.oneof({ arbitrary: hostile, weight: 2 }, { arbitrary: plausible, weight: 1 })

type Call = (store: EventStore, a: unknown, b: unknown, c: unknown) => Promise<unknown> | AsyncIterable<unknown>
const calls: Record<string, Call> = {
  appendToStream: (s, a, b, c) => s.appendToStream(a as string, b as 0, c as []),
  linkToStream: (s, a, b, c) => s.linkToStream(a as string, b as 0, c as []),
  readStreamForward: (s, a, b, c) => s.readStreamForward(a as string, b as number, c as number),
  readStreamBackward: (s, a, b, c) => s.readStreamBackward(a as string, b as number, c as number),
  readAllStreamsForward: (s, a, b) => s.readAllStreamsForward(a as number, b as number),
  readAllStreamsBackward: (s, a, b) => s.readAllStreamsBackward(a as number, b as number),
  streamForward: (s, a, b, c) => s.streamForward(a as string, b as number, c as {}),
  streamAllForward: (s, a, b) => s.streamAllForward(a as number, b as {}),
  streamInfo: (s, a) => s.streamInfo(a as string),
  paginateStreams: (s, a) => s.paginateStreams(a as {}),
  deleteStream: (s, a, b, c) => s.deleteStream(a as string, b as 0, c as 'soft'),
  recordSnapshot: (s, a) => s.recordSnapshot(a as never),
  readSnapshot: (s, a) => s.readSnapshot(a as string),
  deleteSnapshot: (s, a) => s.deleteSnapshot(a as string),
  subscribeToAllStreams: (s, a, b, c) => s.subscribeToAllStreams(a as string, b as string, c as {}),
  subscribeToStream: (s, a, b, c) => s.subscribeToStream(a as string, b as string, c as string),
  unsubscribeFromAllStreams: (s, a) => s.unsubscribeFromAllStreams(a as string),
  deleteSubscription: (s, a, b) => s.deleteSubscription(a as string, b as string),
  subscribe: (s, a, b, c) => s.subscribe(a as string, b as () => void, c as {}),
}

async function settle(result: Promise<unknown> | AsyncIterable<unknown>): Promise<unknown> {
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' && !(result instanceof Promise)) {
    for await (const _ of result as AsyncIterable<unknown>) break
    return undefined
  }
  return result
}

t.test('hostile arguments get a documented EventStoreError, nothing else', async (t) => {
  const store = await startStore(t)
  const seen = new Map<string, number>()
  for (const [name, call] of Object.entries(calls)) {
    await fc.assert(
      fc.asyncProperty(argument, argument, argument, async (a, b, c) => {
        let error: unknown = null
        try {
          await settle(call(store, a, b, c))
        } catch (caught) {
          error = caught
        }
        if (error === null) return true
        if (!(error instanceof EventStoreError) || !CODES.has(error.code)) {
          throw new Error(`${name} threw ${(error as Error)?.name}: ${(error as Error)?.message} (code ${(error as { code?: string })?.code})`)
        }
        seen.set(error.code, (seen.get(error.code) ?? 0) + 1)
        return true
      }),
      { numRuns: 200 },
    )
  }
  t.ok((seen.get('invalid_argument') ?? 0) > 1000, `most calls were refused as invalid_argument (${JSON.stringify(Object.fromEntries(seen))})`)
  await store.unsubscribeFromAllStreams('fuzz-s')
  const [before] = await store.readAllStreamsBackward(-1, 1)
  await store.appendToStream('after-fuzz', 'any_version', [{ eventType: 'Checked', data: {} }])
  const [after] = await store.readAllStreamsBackward(-1, 1)
  t.match(after, { streamId: 'after-fuzz', eventType: 'Checked', eventNumber: (before?.eventNumber ?? 0) + 1 }, 'the store still writes and reads, $all without a gap')
})
