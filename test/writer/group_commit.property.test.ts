// Property: planning a batch is the same as applying its requests one by one to the stored
// state. A simple model does the one-by-one part; fast-check makes the batches and states.
import fc from 'fast-check'
import t from 'tap'
import type { BatchSnapshot } from '../../lib/storage/write_plan.js'
import type { ExpectedVersion } from '../../lib/types.js'
import { assumeExpectedStates, planBatch } from '../../lib/writer/group_commit.js'
import type { PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'

const STREAMS = ['a', 'b', 'c']
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

interface ModelStream {
  version: number
  deleted: boolean
}

const expectedArb: fc.Arbitrary<ExpectedVersion> = fc.oneof(fc.constantFrom('any_version', 'no_stream', 'stream_exists'), fc.integer({ min: 0, max: 4 }))
const requestArb = fc.record({
  streamId: fc.constantFrom(...STREAMS),
  expected: expectedArb,
  count: fc.integer({ min: 1, max: 3 }),
  /** An id that may clash with a stored one or another request's (ids 1-6), or none given. */
  givenId: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
})
const snapshotArb = fc.record({
  lastPosition: fc.integer({ min: 0, max: 100 }),
  versions: fc.array(fc.option(fc.record({ version: fc.integer({ min: 1, max: 4 }), deleted: fc.boolean() }), { nil: null }), { minLength: 3, maxLength: 3 }),
  storedIds: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 3 }),
})

/** The code one request gets against the model, which it then changes when accepted. */
function applyToModel(model: Map<string, ModelStream>, ids: Set<string>, request: WriteRequest): string {
  const stream = model.get(request.streamId)
  if (stream?.deleted) return 'stream_deleted'
  const exists = stream !== undefined
  const version = stream?.version ?? 0
  const { expected } = request
  if (expected === 'no_stream' && exists) return 'stream_exists'
  if (expected === 'stream_exists' && !exists) return 'stream_not_found'
  if (typeof expected === 'number' && expected !== version) return 'wrong_expected_version'
  if (request.type !== 'append') throw new Error('appends only')
  const batchIds = new Set<string>()
  for (const event of request.events) {
    if (event.idGiven && (ids.has(event.eventId) || batchIds.has(event.eventId))) return 'duplicate_event'
    batchIds.add(event.eventId)
  }
  for (const id of batchIds) ids.add(id)
  model.set(request.streamId, { version: version + request.events.length, deleted: false })
  return 'ok'
}

t.test('a planned batch equals its requests applied one by one', async (t) => {
  fc.assert(
    fc.property(snapshotArb, fc.array(requestArb, { minLength: 1, maxLength: 12 }), (given, drawn) => {
      let next = 1000
      const requests: WriteRequest[] = drawn.map((r) => ({
        type: 'append',
        streamId: r.streamId,
        expected: r.expected,
        events: Array.from({ length: r.count }, (_, i): PreparedEvent => {
          const idGiven = r.givenId !== null && i === 0
          return { eventId: idGiven ? ID(r.givenId as number) : ID((next += 1)), eventType: 'E', causationId: null, correlationId: null, dataJson: '{}', metadataJson: '{}', idGiven }
        }),
      }))
      const snapshot: BatchSnapshot = {
        lastPosition: given.lastPosition,
        streams: STREAMS.flatMap((uuid, i) => {
          const state = given.versions[i]
          return state ? [{ streamId: i + 1, streamUuid: uuid, version: state.version, deleted: state.deleted }] : []
        }),
        events: given.storedIds.map((n, i) => ({ eventId: ID(n), position: i + 1, streamId: 1 })),
        links: [],
      }
      const model = new Map(snapshot.streams.map((s) => [s.streamUuid, { version: s.version, deleted: s.deleted }]))
      const ids = new Set(snapshot.events.map((e) => e.eventId))
      const versionsBefore = new Map(model)
      const expectedCodes = requests.map((request) => applyToModel(model, ids, request))

      const plan = planBatch(requests, snapshot)
      const codes = plan.outcomes.map((o) => o?.code ?? 'ok')
      if (JSON.stringify(codes) !== JSON.stringify(expectedCodes)) throw new Error(`outcomes ${codes} != model ${expectedCodes}`)
      const accepted = requests.filter((_, i) => codes[i] === 'ok')
      const written = accepted.flatMap((r) => (r.type === 'append' ? r.events.map((e) => e.eventId) : []))
      if (accepted.length === 0) return plan.write === null
      const write = plan.write
      if (!write) return false
      // Every accepted event, in request order, at consecutive global positions after the last.
      if (JSON.stringify(write.events.eventIds) !== JSON.stringify(written)) return false
      if (!write.events.positions.every((p, i) => p === snapshot.lastPosition + i + 1)) return false
      if (write.lastPosition !== snapshot.lastPosition + written.length) return false
      // Each stream's events get the versions following its stored one, without gaps.
      const seen = new Map<string, number>()
      for (let i = 0; i < write.eventCount; i += 1) {
        const stream = write.events.streams[i] as string
        const version = (seen.get(stream) ?? versionsBefore.get(stream)?.version ?? 0) + 1
        if (write.events.versions[i] !== version) return false
        seen.set(stream, version)
      }
      // The streams written end where the model says.
      for (const s of [...write.newStreams, ...write.grownStreams]) if (model.get(s.streamUuid)?.version !== s.version) return false
      return true
    }),
    { numRuns: 2000 },
  )
  t.pass('2,000 random batches planned as the one-by-one model says')
})

t.test('when every expectation holds, the assumed snapshot plans the same write as the real one', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ streamId: fc.constantFrom(...STREAMS), count: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 8 }), (drawn) => {
      // Requests that state the exact version each stream is at when its turn comes.
      const versions = new Map<string, number>()
      let next = 0
      const requests: WriteRequest[] = drawn.map((r) => {
        const at = versions.get(r.streamId) ?? 0
        versions.set(r.streamId, at + r.count)
        const events = Array.from({ length: r.count }, (): PreparedEvent => ({ eventId: ID((next += 1)), eventType: 'E', causationId: null, correlationId: null, dataJson: '{}', metadataJson: '{}', idGiven: false }))
        return { type: 'append', streamId: r.streamId, expected: at, events }
      })
      const assumed = assumeExpectedStates(requests)
      if (!assumed) return false
      const real: BatchSnapshot = { lastPosition: 0, streams: [], events: [], links: [] }
      const fromAssumed = planBatch(requests, assumed.snapshot)
      const fromReal = planBatch(requests, real)
      return JSON.stringify(fromAssumed.write?.events) === JSON.stringify(fromReal.write?.events) && fromAssumed.outcomes.every((o) => o === null)
    }),
    { numRuns: 1000 },
  )
  t.pass('1,000 random exact batches')
})
