import t from 'tap'
import { batchLength, hasPending, InFlight, isPipelinable, nextTurn, PIPELINE_DEPTH, PIPELINE_MIN_ROWS, preparesHalf, type Queued, rowsOf, toPrepare } from '../../lib/writer/batching.js'
import type { PendingAppend, PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'

const event = (dataJson = '{}'): PreparedEvent => ({ eventId: 'id', eventType: 'E', causationId: null, correlationId: null, dataJson, metadataJson: '{}', idGiven: false })
const append = (streamId: string, expected: WriteRequest['expected'] = 0, count = 1): Queued => ({
  request: { type: 'append', streamId, expected, events: Array.from({ length: count }, () => event()) },
  settled: false,
})
const link = (streamId: string): Queued => ({ request: { type: 'link', streamId, expected: 'any_version', eventIds: ['id'] }, settled: false })
const deletion = (streamId: string): Queued => ({ request: { type: 'delete', streamId, expected: 'any_version', mode: 'soft' }, settled: false })
/** An append large enough for its batch to be pipelined by itself. */
const large = (streamId: string, expected: WriteRequest['expected'] = 0): Queued => append(streamId, expected, PIPELINE_MIN_ROWS)
const pending = (eventCount = 1): Queued => {
  const request: PendingAppend = { type: 'pending append', expected: 0, eventCount, prepare: () => append('p').request as WriteRequest }
  return { request, settled: false }
}
const settled = (queued: Queued): Queued => ({ ...queued, settled: true })

t.test('a batch takes prepared requests from the head, within the row and text caps', async (t) => {
  t.equal(batchLength([append('a'), append('b'), append('c')], 10), 3)
  t.equal(batchLength([append('a', 0, 2), append('b', 0, 2), append('c')], 4), 2, 'rows: the third would pass the cap')
  t.equal(batchLength([append('big', 0, 5), append('b')], 2), 1, 'a single request larger than the cap still goes whole')
  t.equal(batchLength([append('a'), append('b')], 10, 4), 1, 'text units: data and metadata of each event count')
  t.equal(batchLength([append('a'), pending(), append('b')], 10), 1, 'an unprepared append ends the batch')
  t.equal(batchLength([pending()], 10), 0)
  t.equal(batchLength([settled(append('x')), append('a'), settled(append('y')), append('b')], 2), 2, 'settled requests are skipped, not counted')
})

t.test('a deletion goes alone', async (t) => {
  t.equal(batchLength([append('a'), deletion('a'), append('b')], 10), 1, 'the appends before it go first')
  t.equal(batchLength([deletion('a'), append('b')], 10), 1, 'then the deletion by itself')
})

t.test('only appends the one-statement write can take are pipelined', async (t) => {
  t.equal(isPipelinable([append('a'), append('b', 'any_version')], 2), true)
  t.equal(isPipelinable([append('a'), link('b')], 2), false, 'a link needs the stored state')
  t.equal(isPipelinable([append('a'), link('b')], 1), true, 'only the first `length` live requests count')
  t.equal(isPipelinable([append('a', 'any_version'), append('a', 1)], 2), false, 'a stream taken as it is, then expected at a version')
  t.equal(isPipelinable([deletion('a')], 1), false)
  t.equal(isPipelinable([settled(link('x')), append('a')], 1), true, 'a settled link is skipped')
})

t.test('from idle, a large prepared queue goes as two pipelined halves; without a connection of its own, as one batch', async (t) => {
  const queue = Array.from({ length: 5 }, (_, i) => large(`s-${i}`))
  t.same(nextTurn(queue, new InFlight(), 10_000, true, false), { length: 3, pipelined: true })
  t.same(nextTurn(queue, new InFlight(), 10_000, false, false), { length: 5, pipelined: false })
  t.same(nextTurn(queue, new InFlight(), 10_000, true, true), { length: 5, pipelined: true }, 'a queue prepared half at a time sends what was prepared')
  t.same(nextTurn([link('l'), large('a')], new InFlight(), 10_000, true, false), { length: 2, pipelined: false }, 'a batch with a link goes whole and alone')
})

t.test('from idle, a queue too small for two pipelined halves goes whole', async (t) => {
  const half = (streamId: string): Queued => append(streamId, 0, PIPELINE_MIN_ROWS / 2)
  t.same(nextTurn([half('a'), half('b')], new InFlight(), 10_000, true, false), { length: 2, pipelined: true })
  t.same(nextTurn([half('a'), half('b'), half('c')], new InFlight(), 10_000, true, false), { length: 3, pipelined: true }, 'the second half would be too small')
  t.same(nextTurn([half('a'), half('b'), half('c'), half('d')], new InFlight(), 10_000, true, false), { length: 2, pipelined: true })
})

t.test('a small batch goes whole and alone', async (t) => {
  const small = Array.from({ length: 5 }, (_, i) => append(`s-${i}`))
  t.same(nextTurn(small, new InFlight(), 10_000, true, false), { length: 5, pipelined: false })
  const inFlight = new InFlight()
  inFlight.start(['a'], false)
  t.equal(nextTurn(small, inFlight, 10_000, true, false), null, 'it waits for the batch in flight')
  t.equal(rowsOf([append('a', 0, 3), settled(large('x')), append('b', 0, 2), large('c')], 2), 5, 'rows of the first live requests')
  t.equal(rowsOf([append('a', 0, 3), append('b')], Infinity), 4)
})

t.test('with a batch in flight, the next goes behind it only if large, pipelined and writing other streams', async (t) => {
  const inFlight = new InFlight()
  inFlight.start(['a'], true)
  t.same(nextTurn([large('b'), large('c')], inFlight, 10_000, true, false), { length: 2, pipelined: true }, 'not halved: something is in flight')
  t.equal(nextTurn([large('b'), large('a', 'any_version')], inFlight, 10_000, true, false), null, "it would write 'a', which the batch in flight writes")
  t.equal(nextTurn([settled(large('a')), large('b')], inFlight, 10_000, true, false)?.length, 1, 'a settled request does not count')
  t.equal(nextTurn([link('b')], inFlight, 10_000, true, false), null, 'a batch that cannot be pipelined waits')
  t.equal(nextTurn([large('b')], inFlight, 10_000, false, false), null, 'nothing is pipelined when the writer may not (no connection of its own, or other processes writing)')
  t.equal(nextTurn([append('b')], inFlight, 10_000, true, false), null, 'a small batch waits')
})

t.test('in flight: up to PIPELINE_DEPTH pipelined batches, or one exclusive one', async (t) => {
  const inFlight = new InFlight()
  for (let i = 0; i < PIPELINE_DEPTH; i += 1) {
    t.equal(inFlight.open, true)
    inFlight.start([`s-${i}`], true)
  }
  t.equal(inFlight.open, false, 'the pipeline is full')
  inFlight.end(['s-0'])
  t.equal(inFlight.open, true)
  inFlight.end(['s-1'])
  inFlight.start(['x'], false)
  t.equal(inFlight.open, false, 'an exclusive batch goes alone')
  t.equal(inFlight.writesAnyOf([append('x')], 1), true)
  inFlight.end(['x'])
  t.same([inFlight.open, inFlight.count, inFlight.writesAnyOf([append('x')], 1)], [true, 0, false], 'its streams are no longer in flight')
})

t.test('a stream written by two batches in flight stays in flight until both end', async (t) => {
  const inFlight = new InFlight()
  inFlight.start(['a', 'b'], true)
  inFlight.start(['a'], true)
  inFlight.end(['a', 'b'])
  t.equal(inFlight.writesAnyOf([append('a')], 1), true, "'a' is still written by the second")
  t.equal(inFlight.writesAnyOf([append('b')], 1), false)
})

t.test('from idle with unprepared appends at the head, half the queue is prepared first', async (t) => {
  const big = pending(PIPELINE_MIN_ROWS / 2)
  t.equal(preparesHalf([big, big, big, big], true, true), true)
  t.equal(preparesHalf([big, big, big, big], true, false), false, 'not when the writer may not pipeline')
  t.equal(preparesHalf([big, big, big], true, true), false, 'not when the queue is too small for two pipelined batches')
  t.equal(preparesHalf([big, big], false, true), false, 'not with a batch in flight')
  t.equal(preparesHalf([large('a'), big, big], true, true), false, 'not when the head is prepared')
  t.same([toPrepare(5, true), toPrepare(5, false)], [3, Infinity])
  t.equal(hasPending([append('a'), pending(), settled(append('b'))]), true, 'the last live request is unprepared')
  t.equal(hasPending([pending(), append('a')]), false)
  t.equal(hasPending([]), false)
})
