import t from 'tap'
import { InvalidArgumentError } from '../../lib/errors.js'
import type { PendingAppend, WriteRequest } from '../../lib/writer/messages.js'
import { WriteQueue } from '../../lib/writer/queue.js'

const append = (streamId: string): WriteRequest => ({ type: 'append', streamId, expected: 0, events: [] })
const streamsOf = (batch: { request: unknown }[]) => batch.map((e) => (e.request as WriteRequest).streamId)
const outcome = (settled: Promise<void>) => settled.then(
  () => 'written',
  (error: { code: string }) => error.code,
)

t.test('a request withdrawn while queued is settled at once and skipped when taken', async (t) => {
  const queue = new WriteQueue()
  const controller = new AbortController()
  const first = queue.enqueue(append('a'), undefined, undefined)
  const aborted = queue.enqueue(append('b'), controller.signal, undefined)
  queue.enqueue(append('c'), undefined, undefined)
  t.equal(queue.live, 3)
  controller.abort()
  t.equal(await outcome(aborted), 'aborted')
  t.equal(queue.live, 2)
  const batch = queue.take(2)
  t.same(streamsOf(batch), ['a', 'c'])
  t.equal(queue.envelopes.length, 0, 'the withdrawn one left with them')
  batch[0]?.resolve()
  t.equal(await outcome(first), 'written')
})

t.test('a timeout withdraws a request still queued, and is cleared once it is taken', async (t) => {
  const queue = new WriteQueue()
  const timedOut = queue.enqueue(append('a'), undefined, 1)
  t.equal(await outcome(timedOut), 'timeout')
  const controller = new AbortController()
  const taken = queue.enqueue(append('b'), controller.signal, 1)
  const [envelope] = queue.take(1)
  controller.abort() // too late: the caller waits for its batch
  envelope?.resolve()
  t.equal(await outcome(taken), 'written')
})

t.test('a batch put back goes to the head, in its order, once more retried', async (t) => {
  const queue = new WriteQueue()
  for (const stream of ['a', 'b', 'c']) void queue.enqueue(append(stream), undefined, undefined)
  const batch = queue.take(2)
  queue.putBack(batch)
  t.equal(queue.live, 3)
  const again = queue.take(3)
  t.same(streamsOf(again), ['a', 'b', 'c'])
  t.same(again.map((e) => e.retries), [1, 1, 0])
})

t.test('preparing from the head: pending appends become requests; one whose events are refused leaves with the error', async (t) => {
  const queue = new WriteQueue()
  const pending = (streamId: string, refuse = false): PendingAppend => ({
    type: 'pending append',
    expected: 0,
    eventCount: 1,
    prepare: () => {
      if (refuse) throw new InvalidArgumentError(`the events of ${streamId} cannot be stored`)
      return append(streamId)
    },
  })
  const refused = queue.enqueue(pending('bad', true), undefined, undefined)
  for (const stream of ['a', 'b']) void queue.enqueue(pending(stream), undefined, undefined)
  queue.prepare(2)
  t.equal(await outcome(refused), 'invalid_argument')
  t.same([queue.envelopes.at(1)?.request.type, queue.envelopes.at(2)?.request.type], ['append', 'pending append'], 'two live requests were prepared: the refused one counts')
  queue.skipSettled()
  t.equal(queue.envelopes.length, 2)
})
