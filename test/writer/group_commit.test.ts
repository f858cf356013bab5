import t from 'tap'
import type { BatchSnapshot } from '../../lib/storage/write_plan.js'
import { assumeExpectedStates, batchLookups, planBatch } from '../../lib/writer/group_commit.js'
import type { PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'

let nextId = 0
function event(id?: string): PreparedEvent {
  nextId += 1
  const eventId = id ?? `00000000-0000-4000-8000-${String(nextId).padStart(12, '0')}`
  return { eventId, eventType: 'E', causationId: null, correlationId: null, dataJson: '{"n":1}', metadataJson: '{}', idGiven: id !== undefined }
}
const append = (streamId: string, expected: WriteRequest['expected'], count = 1): WriteRequest => ({
  type: 'append',
  streamId,
  expected,
  events: Array.from({ length: count }, () => event()),
})
const empty: BatchSnapshot = { lastPosition: 10, streams: [], events: [], links: [] }
const codes = (plan: ReturnType<typeof planBatch>) => plan.outcomes.map((o) => o?.code ?? 'ok')

t.test('appends to new and existing streams get consecutive versions and positions', async (t) => {
  const snapshot: BatchSnapshot = { ...empty, streams: [{ streamId: 7, streamUuid: 'old', version: 3, deleted: false }] }
  const plan = planBatch([append('new', 0, 2), append('old', 3, 1), append('new', 2, 1)], snapshot)
  t.same(codes(plan), ['ok', 'ok', 'ok'])
  t.same(plan.write?.newStreams, [{ streamUuid: 'new', version: 3 }])
  t.same(plan.write?.grownStreams, [{ streamId: 7, streamUuid: 'old', version: 4 }])
  t.equal(plan.write?.lastPosition, 14)
  const events = plan.write?.events
  t.same(events?.positions, [11, 12, 13, 14])
  t.same(events?.streams, ['new', 'new', 'old', 'new'])
  t.same(events?.versions, [1, 2, 4, 3])
  t.same(events?.data, ['{"n":1}', '{"n":1}', '{"n":1}', '{"n":1}'], 'data as encodeTerm made it')
  t.equal(events?.eventIds.length, 4)
})

t.test('a refused request changes nothing for the requests around it', async (t) => {
  const plan = planBatch([append('a', 0), append('a', 0), append('b', 'stream_exists'), append('a', 1)], empty)
  t.same(codes(plan), ['ok', 'wrong_expected_version', 'stream_not_found', 'ok'])
  t.equal(plan.write?.eventCount, 2)
  t.equal(plan.write?.lastPosition, 12)
})

t.test('same expected version twice in one batch: exactly one wins', async (t) => {
  const plan = planBatch(Array.from({ length: 5 }, () => append('race', 0)), empty)
  t.same(codes(plan), ['ok', 'wrong_expected_version', 'wrong_expected_version', 'wrong_expected_version', 'wrong_expected_version'])
})

t.test('duplicate event ids: stored, earlier in the batch, or twice in one append', async (t) => {
  const id = '11111111-1111-4111-8111-111111111111'
  const stored = planBatch([{ type: 'append', streamId: 's', expected: 'any_version', events: [event(id)] }], {
    ...empty,
    events: [{ eventId: id, position: 3, streamId: 1 }],
  })
  t.same(codes(stored), ['duplicate_event'])
  t.equal(stored.write, null)
  const twice = planBatch(
    [
      { type: 'append', streamId: 's', expected: 'any_version', events: [event(id)] },
      { type: 'append', streamId: 't', expected: 'any_version', events: [event(id)] },
      { type: 'append', streamId: 'u', expected: 'any_version', events: [event('22222222-2222-4222-8222-222222222222'), event('22222222-2222-4222-8222-222222222222')] },
    ],
    empty,
  )
  t.same(codes(twice), ['ok', 'duplicate_event', 'duplicate_event'])
})

t.test('links: known events only, once per stream, never into their own stream', async (t) => {
  const snapshot: BatchSnapshot = {
    ...empty,
    streams: [
      { streamId: 1, streamUuid: 'origin', version: 2, deleted: false },
      { streamId: 2, streamUuid: 'target', version: 1, deleted: false },
    ],
    events: [
      { eventId: 'e1', position: 1, streamId: 1 },
      { eventId: 'e2', position: 2, streamId: 1 },
    ],
    links: [{ streamId: 2, position: 1 }],
  }
  const link = (streamId: string, eventIds: string[]): WriteRequest => ({ type: 'link', streamId, expected: 'any_version', eventIds })
  const plan = planBatch([link('target', ['e1']), link('origin', ['e2']), link('target', ['missing']), link('target', ['e2']), link('target', ['e2'])], snapshot)
  t.same(codes(plan), ['duplicate_event', 'duplicate_event', 'invalid_argument', 'ok', 'duplicate_event'])
  t.same(plan.write?.links, { streams: ['target'], versions: [2], positions: [2] })
  t.equal(plan.write?.lastPosition, 10, 'links take no $all position')
})

t.test('an event appended earlier in the batch can be linked later in it', async (t) => {
  const appended = append('origin', 0)
  const id = appended.type === 'append' ? appended.events[0]?.eventId ?? '' : ''
  const plan = planBatch([appended, { type: 'link', streamId: 'copy', expected: 'no_stream', eventIds: [id] }], empty)
  t.same(codes(plan), ['ok', 'ok'])
  t.same(plan.write?.links, { streams: ['copy'], versions: [1], positions: [11] })
})

t.test('lookups name each stream once and only caller-chosen event ids', async (t) => {
  const given = { type: 'append', streamId: 'a', expected: 0, events: [event('33333333-3333-4333-8333-333333333333'), event()] } as WriteRequest
  const lookups = batchLookups([given, append('a', 'any_version'), { type: 'link', streamId: 'b', expected: 0, eventIds: ['x'] }])
  t.same(lookups, { streamUuids: ['a', 'b'], eventIds: ['33333333-3333-4333-8333-333333333333', 'x'], hasLinks: true })
})

t.test('exact expectations become a snapshot to plan against: each stream as its first request expects it', async (t) => {
  const assumed = assumeExpectedStates([append('new', 0, 2), append('old', 3), append('new', 2), append('none', 'no_stream'), append('old', 9)])
  t.same(assumed?.snapshot, { lastPosition: 0, streams: [{ streamId: -2, streamUuid: 'old', version: 3, deleted: false }], events: [], links: [] })
  t.equal(assumed?.relative.size, 0)
  const plan = planBatch([append('new', 0, 2), append('old', 3), append('new', 2)], assumed?.snapshot as BatchSnapshot)
  t.same(codes(plan), ['ok', 'ok', 'ok'])
  t.same(plan.write?.events.positions, [1, 2, 3, 4], 'positions count from 1 within the batch')
})

t.test("streams taken as they are ('any_version', 'stream_exists') are planned from version 0, to be counted from the version found", async (t) => {
  const requests = [append('any', 'any_version', 2), append('exists', 'stream_exists'), append('any', 'stream_exists'), append('exact', 4), append('exact', 'any_version')]
  const assumed = assumeExpectedStates(requests)
  t.same([...(assumed?.relative ?? [])], [['any', 'any_version'], ['exists', 'stream_exists']])
  const plan = planBatch(requests, assumed?.snapshot as BatchSnapshot)
  t.same(codes(plan), ['ok', 'ok', 'ok', 'ok', 'ok'])
  t.same(plan.write?.events.versions, [1, 2, 1, 3, 5, 6], "relative streams count from 0; 'exact' from its expected 4")
  t.same(plan.write?.grownStreams.map((s) => [s.streamUuid, s.version]), [['any', 3], ['exists', 1], ['exact', 6]])
})

t.test('no snapshot can be assumed for links, or for an exact expectation after a stream was taken as it is', async (t) => {
  t.equal(assumeExpectedStates([append('a', 0), { type: 'link', streamId: 'l', expected: 0, eventIds: ['x'] }]), null)
  t.equal(assumeExpectedStates([append('a', 'any_version'), append('a', 1)]), null, 'version 1 cannot be checked without the version found')
  t.equal(assumeExpectedStates([append('a', 'stream_exists'), append('a', 'no_stream')]), null)
  t.not(assumeExpectedStates([append('a', 'any_version'), append('a', 'stream_exists')]), null)
  t.not(assumeExpectedStates([append('a', 0), append('a', 'any_version')]), null, 'only the first request of a stream states its expectation')
})
