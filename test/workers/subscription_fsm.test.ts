import t from 'tap'
import type { QueuedEvent, SubscriptionMessage, SubscriptionSpec } from '../../lib/subscriptions/messages.js'
import type { RecordedEvent } from '../../lib/types.js'
import { type Effect, start, transition } from '../../workers/subscription/fsm.js'
import { ackedPosition, initialState, type SubscriptionState } from '../../workers/subscription/state.js'

const spec = (overrides: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  streamId: '$all',
  name: 'test',
  startFrom: 0,
  maxSize: 10,
  checkpointThreshold: 1,
  checkpointAfter: 0,
  transient: false,
  partitioned: false,
  filter: null,
  ...overrides,
})
const event = (n: number, streamId = 's', correlationId: string | null = null): RecordedEvent => ({
  eventNumber: n, eventId: `id-${n}`, streamId, streamVersion: n, eventType: 'E', data: {}, metadata: {}, causationId: null, correlationId, createdAt: new Date(0),
})
const queued = (numbers: number[], key?: (n: number) => string): QueuedEvent[] => numbers.map((n) => ({ event: event(n), partitionKey: key ? key(n) : null }))

/** A read's result; without a readId it answers the read in flight. */
type Message = SubscriptionMessage | Omit<Extract<SubscriptionMessage, { type: 'read_done' }>, 'readId'>

/** Feeds messages in order; returns the final state and every effect produced. */
function run(state: SubscriptionState, messages: Message[]) {
  const effects: Effect[] = []
  let current = state
  for (const message of messages) {
    const next = transition(current, 'readId' in message || message.type !== 'read_done' ? message : { ...message, readId: current.readId })
    current = next.state
    effects.push(...next.effects)
  }
  return { state: current, effects }
}
const sent = (effects: Effect[]) =>
  effects.flatMap((e) => (e.type === 'send' && e.message.type === 'events' ? [[e.subscriberId, e.message.batches.flat().map((x) => x.eventNumber)]] : []))
const saved = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'save_checkpoint' ? [e.position] : []))
const reads = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'read' ? [[e.from, e.count]] : []))

function running(s = spec(), subscribers: [string, number][] = [['a', 1]]) {
  const connects: SubscriptionMessage[] = subscribers.map(([id, bufferSize]) => ({ type: 'connect', subscriberId: id, bufferSize }))
  return run(initialState(s), [...connects, { type: 'lock_result', acquired: true }, { type: 'checkpoint_loaded', checkpoint: 0 }])
}

t.test('start: take the lock, load the checkpoint, greet, read', async (t) => {
  t.same(start(initialState(spec())).effects, [{ type: 'acquire_lock' }])
  t.same(start(initialState(spec({ transient: true }))).effects, [{ type: 'load_checkpoint' }])
  const standby = run(initialState(spec()), [{ type: 'connect', subscriberId: 'a', bufferSize: 1 }, { type: 'lock_result', acquired: false }])
  t.same(standby.effects, [{ type: 'after', ms: 500, message: { type: 'retry_lock' } }], 'no lock: stay on standby, no subscribed message')
  const { state, effects } = running()
  t.equal(state.status, 'running')
  t.same(effects.filter((e) => e.type === 'send'), [{ type: 'send', subscriberId: 'a', message: { type: 'subscribed' } }])
  t.same(reads(effects), [[1, 10]])
})

t.test('dispatch respects bufferSize; acks release the next events; checkpoint follows acks', async (t) => {
  const { state } = running(spec(), [['a', 2]])
  const afterRead = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4]), requested: 10 }])
  t.same(sent(afterRead.effects), [['a', [1, 2]]])
  t.equal(afterRead.state.caughtUp, true, 'a short read means caught up')
  const acked = run(afterRead.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [1] }])
  t.same(sent(acked.effects), [['a', [3]]])
  t.same(saved(acked.effects), [1])
})

t.test('out-of-order acks never move the checkpoint past an unacked event', async (t) => {
  const { state } = running(spec(), [['a', 1], ['b', 1]])
  const delivered = run(state, [{ type: 'read_done', events: queued([1, 2]), requested: 10 }])
  t.same(sent(delivered.effects), [['a', [1]], ['b', [2]]], 'least loaded first')
  const bFirst = run(delivered.state, [{ type: 'ack', subscriberId: 'b', eventNumbers: [2] }])
  t.same(saved(bFirst.effects), [], 'event 1 is still unacked')
  t.equal(ackedPosition(bFirst.state), 0)
  const aThen = run(bFirst.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [1] }])
  t.same(saved(aThen.effects), [2])
})

t.test('checkpointThreshold batches checkpoint writes; checkpointAfter flushes the rest', async (t) => {
  const { state } = running(spec({ checkpointThreshold: 3, checkpointAfter: 50 }), [['a', 10]])
  const delivered = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4]), requested: 10 }])
  const two = run(delivered.state, [
    { type: 'ack', subscriberId: 'a', eventNumbers: [1] },
    { type: 'ack', subscriberId: 'a', eventNumbers: [2] },
  ])
  t.same(saved(two.effects), [])
  t.same(two.effects.filter((e) => e.type === 'after'), [{ type: 'after', ms: 50, message: { type: 'checkpoint_timer' } }], 'timer armed once')
  const third = run(two.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [3] }])
  t.same(saved(third.effects), [3])
  const fourth = run(third.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [4] }, { type: 'checkpoint_timer' }])
  t.same(saved(fourth.effects), [4])
})

t.test('a checkpoint timer firing during catch-up never skips events (the Elixir bug)', async (t) => {
  // Events 1–10 read, only 1–3 acked, more pages to read: the timer must store 3, not 10.
  const { state } = running(spec({ checkpointThreshold: 100, checkpointAfter: 10, maxSize: 10 }), [['a', 5]])
  const caughtUpPartly = run(state, [
    { type: 'read_done', events: queued([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), requested: 10 },
    { type: 'ack', subscriberId: 'a', eventNumbers: [1] },
    { type: 'ack', subscriberId: 'a', eventNumbers: [2] },
    { type: 'ack', subscriberId: 'a', eventNumbers: [3] },
    { type: 'checkpoint_timer' },
  ])
  t.same(saved(caughtUpPartly.effects), [3])
  t.equal(caughtUpPartly.state.readPosition, 10)
})

t.test('the queue never holds more than maxSize; reads ask only for the room left', async (t) => {
  const { state } = running(spec({ maxSize: 4 }), [['a', 1]])
  const full = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4]), requested: 4 }])
  t.equal(full.state.queue.length, 3)
  t.same(reads(full.effects), [], 'no read while the queue is over half full')
  const notified = run(full.state, [{ type: 'notify', lastPosition: 100 }])
  t.same(reads(notified.effects), [])
  const drained = run(notified.state, [
    { type: 'ack', subscriberId: 'a', eventNumbers: [1] },
    { type: 'ack', subscriberId: 'a', eventNumbers: [2] },
  ])
  t.same(reads(drained.effects), [[5, 2]])
  t.ok(drained.state.queue.length <= 4)
})

t.test('partitions: one key at a time to one subscriber, in order, also with bufferSize > 1', async (t) => {
  const key = (n: number) => (n % 2 === 1 ? 'odd' : 'even')
  const { state } = running(spec({ partitioned: true }), [['a', 3], ['b', 3]])
  const delivered = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4, 5, 6], key), requested: 10 }])
  const byKey = new Map<string, Set<string>>()
  for (const [id, numbers] of sent(delivered.effects) as [string, number[]][]) {
    for (const n of numbers) byKey.set(key(n), (byKey.get(key(n)) ?? new Set()).add(id))
  }
  t.equal(byKey.get('odd')?.size, 1, 'odd events all went to one subscriber')
  t.equal(byKey.get('even')?.size, 1, 'even events all went to one subscriber')
  t.not([...(byKey.get('odd') ?? [])][0], [...(byKey.get('even') ?? [])][0], 'the two keys went to different subscribers')
})

t.test('a subscriber going down: its unacked events go to the others; the last one down stops', async (t) => {
  const { state } = running(spec(), [['a', 2], ['b', 2]])
  const delivered = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4]), requested: 10 }])
  t.same(sent(delivered.effects), [['a', [1, 3]], ['b', [2, 4]]], 'one message per subscriber')
  const down = run(delivered.state, [
    { type: 'subscriber_down', subscriberId: 'a', error: null },
    { type: 'ack', subscriberId: 'b', eventNumbers: [2] },
    { type: 'ack', subscriberId: 'b', eventNumbers: [4] },
  ])
  t.same(sent(down.effects), [['b', [1]], ['b', [3]]], 'redelivered to the other, in order, as each slot frees')
  t.same(saved(down.effects), [], 'not counted as acked: event 1 holds the checkpoint at 0')
  const last = run(down.state, [{ type: 'ack', subscriberId: 'b', eventNumbers: [1] }, { type: 'subscriber_down', subscriberId: 'b', error: null }])
  t.equal(last.state.status, 'stopped')
  t.same(saved(last.effects), [2], 'stores what was acknowledged before stopping: 1, 2 (3 is not)')
  t.ok(last.effects.some((e) => e.type === 'release_lock'))
  t.same(last.effects.at(-1), { type: 'stop', reason: 'unsubscribed', error: null })
})

t.test('lock lost: back to standby, nothing more sent until the lock is back', async (t) => {
  const { state } = running(spec(), [['a', 1]])
  const lost = run(state, [{ type: 'read_done', events: queued([1, 2]), requested: 10 }, { type: 'lock_lost' }, { type: 'ack', subscriberId: 'a', eventNumbers: [1] }])
  t.equal(lost.state.status, 'standby')
  t.same(sent(lost.effects), [['a', [1]]])
  t.same(saved(lost.effects), [], 'an ack after losing the lock stores nothing')
})

t.test('a read issued before the lock was lost is dropped when it comes back: nothing after the checkpoint is skipped', async (t) => {
  const { state } = running(spec(), [['a', 1]])
  const caughtUp = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4, 5, 6]), requested: 10 }]).state
  const reading = run(caughtUp, [{ type: 'notify', lastPosition: 20 }])
  t.same(reads(reading.effects), [[7, 5]], 'a read from 7 is in flight')
  const back = run(reading.state, [{ type: 'lock_lost' }, { type: 'retry_lock' }, { type: 'lock_result', acquired: true }, { type: 'checkpoint_loaded', checkpoint: 0 }])
  t.same(reads(back.effects), [[1, 10]], 'running again from the stored checkpoint')
  const stale = run(back.state, [{ type: 'read_done', readId: reading.state.readId, events: queued([7, 8, 9, 10, 11]), requested: 5 }])
  t.same(sent(stale.effects), [], 'the old read delivers nothing')
  t.equal(stale.state.readPosition, 0, 'and does not move the read position')
  const fresh = run(stale.state, [{ type: 'read_done', events: queued([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), requested: 10 }])
  t.same(sent(fresh.effects), [['a', [1]]], 'the new read delivers from the checkpoint on')
  const failed = run(back.state, [{ type: 'read_failed', readId: reading.state.readId, error: { wireError: true, name: 'ConnectionError', code: 'connection', message: 'gone', details: undefined, stack: undefined } }])
  t.equal(failed.state.reading, true, 'an old read that failed does not end the read in flight')
  t.same(failed.effects, [])
})

t.test('hand-over: nothing more is sent or read; once in-flight events are acked the checkpoint is stored and the lock released; then a cooldown', async (t) => {
  const { state } = running(spec(), [['a', 2]])
  const busy = run(state, [{ type: 'read_done', events: queued([1, 2, 3, 4]), requested: 10 }]).state // 1, 2 in flight; 3, 4 queued
  const asked = run(busy, [{ type: 'hand_over' }])
  t.same(asked.effects, [{ type: 'after', ms: 5000, message: { type: 'hand_over_due', drain: 1 } }], 'waits for the in-flight events, at most 5 s')
  const acked = run(asked.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [1] }, { type: 'notify', lastPosition: 9 }])
  t.same(sent(acked.effects), [], 'nothing more is sent while handing over')
  t.same(reads(acked.effects), [], 'nor read')
  const done = run(acked.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [2] }])
  t.equal(done.state.status, 'standby')
  t.same(saved(done.effects), [2], 'stores the checkpoint of what was acknowledged')
  t.same(
    done.effects.filter((e) => e.type === 'release_lock' || e.type === 'after'),
    [{ type: 'release_lock', leave: false }, { type: 'after', ms: 2000, message: { type: 'retry_lock' } }],
    'releases the lock (still wanting the subscription), then waits before trying again',
  )
  t.same(run(done.state, [{ type: 'lock_lost' }]).effects, [], 'a lost lock on standby changes nothing')
  const due = run(asked.state, [{ type: 'hand_over_due', drain: 1 }])
  t.equal(due.state.status, 'standby', 'in flight too long: handed over anyway (what was in flight is delivered again)')
  t.same(saved(due.effects), [], 'the checkpoint stays before the unacknowledged events')
  const again = run(done.state, [{ type: 'retry_lock' }, { type: 'lock_result', acquired: true }, { type: 'checkpoint_loaded', checkpoint: 2 }])
  const redelivered = run(again.state, [{ type: 'read_done', events: queued([3, 4]), requested: 10 }, { type: 'hand_over' }])
  t.equal(run(redelivered.state, [{ type: 'hand_over_due', drain: 1 }]).state.status, 'running', "an earlier hand-over's bound does not cut a later one short")
  const idle = run(run(state, [{ type: 'read_done', events: [], requested: 10 }]).state, [{ type: 'hand_over' }])
  t.equal(idle.state.status, 'standby', 'nothing in flight: handed over at once')
  const loading = run(initialState(spec()), [{ type: 'connect', subscriberId: 'a', bufferSize: 1 }, { type: 'lock_result', acquired: true }, { type: 'hand_over' }])
  t.equal(loading.state.status, 'loading', 'still loading its checkpoint')
  const loaded = run(loading.state, [{ type: 'checkpoint_loaded', checkpoint: 3 }])
  t.equal(loaded.state.status, 'standby', 'asked while loading: handed over as soon as loaded')
  t.same(sent(loaded.effects), [], 'nothing sent before handing over')
  t.same(reads(loaded.effects), [], 'nor read')
  t.same(
    loaded.effects.filter((e) => e.type === 'release_lock' || e.type === 'after'),
    [{ type: 'release_lock', leave: false }, { type: 'after', ms: 2000, message: { type: 'retry_lock' } }],
  )
})

t.test('a $all notification already read is ignored; a stream subscription looks unless handed the events', async (t) => {
  const { state } = running(spec(), [['a', 1]])
  const read = run(state, [{ type: 'read_done', events: queued([1]), requested: 10 }])
  t.same(reads(run(read.state, [{ type: 'notify', lastPosition: 1 }]).effects), [])
  t.same(reads(run(read.state, [{ type: 'notify', lastPosition: 2 }]).effects), [[2, 10]])
  const stream = run(running(spec({ streamId: 's' }), [['a', 1]]).state, [{ type: 'read_done', events: queued([1]), requested: 10 }])
  t.same(reads(run(stream.state, [{ type: 'notify', lastPosition: 1 }]).effects), [[2, 10]], 'stream event numbers are not positions')
})

t.test('a notification during a read is not lost when that read comes back short', async (t) => {
  const { state } = running(spec(), [['a', 10]])
  t.ok(state.reading, 'the first read is in flight')
  const notified = run(state, [{ type: 'notify', lastPosition: 5 }])
  t.same(reads(notified.effects), [], 'no second read while one is in flight')
  const shortPage = run(notified.state, [{ type: 'read_done', events: queued([1, 2]), requested: 10 }])
  t.same(reads(shortPage.effects), [[3, 10]], 'reads again: events 3-5 may have committed after the first read began')
  const caughtUp = run(shortPage.state, [{ type: 'read_done', events: queued([3, 4, 5]), requested: 10 }])
  t.same(reads(caughtUp.effects), [], 'and only then counts as caught up')
})

/** Events this process's writer committed: `numbers` as event numbers, the batch ending at `last` in $all. */
const committed = (numbers: number[], last: number): SubscriptionMessage => ({ type: 'committed', events: queued(numbers), last })

t.test('events handed off by the writer are taken when they follow on exactly: no read', async (t) => {
  const { state } = running(spec({ streamId: 's' }), [['a', 10]])
  const caughtUp = run(state, [{ type: 'read_done', events: queued([1, 2]), requested: 10 }]).state
  const taken = run(caughtUp, [committed([3, 4, 5], 40)])
  t.same(sent(taken.effects), [['a', [3, 4, 5]]], 'sent straight on')
  t.same(reads(taken.effects), [], 'nothing read back')
  t.equal(taken.state.readPosition, 5)
  t.equal(taken.state.caughtUp, true, 'still caught up')
  t.same(reads(run(taken.state, [{ type: 'notify', lastPosition: 40 }]).effects), [], 'their notification (or an earlier one) is then ignored')
  t.same(reads(run(taken.state, [{ type: 'notify', lastPosition: 41 }]).effects), [[6, 10]], 'a later one is read')
  t.same(reads(run(taken.state, [{ type: 'notify', lastPosition: null }]).effects), [[6, 10]], 'links (no position) are read')
})

t.test('handed-off events that do not follow on count as a notification: read instead', async (t) => {
  const { state } = running(spec({ streamId: 's' }), [['a', 10]])
  const caughtUp = run(state, [{ type: 'read_done', events: queued([1, 2]), requested: 10 }]).state
  const gap = run(caughtUp, [committed([5, 6], 40)])
  t.same(sent(gap.effects), [], 'events 3-4 came from elsewhere: not sent out of order')
  t.same(reads(gap.effects), [[3, 10]])
  t.same(reads(run(gap.state, [{ type: 'notify', lastPosition: 40 }]).effects), [], 'no second read while one is in flight')

  const reading = running(spec({ streamId: 's' }), [['a', 10]]).state // its first read is in flight
  const during = run(reading, [committed([1, 2], 7)])
  t.same(sent(during.effects), [], 'held while a read is in flight')
  const back = run(during.state, [{ type: 'read_done', events: [], requested: 10 }])
  t.same(sent(back.effects), [['a', [1, 2]]], 'taken once the read is back, when they follow on from it')
  t.same(reads(back.effects), [], 'and no second read')
  const overlap = run(during.state, [{ type: 'read_done', events: queued([1]), requested: 10 }])
  t.same(sent(overlap.effects), [['a', [1, 2]]], 'what the read already returned is not sent twice')
  const covered = run(during.state, [{ type: 'read_done', events: queued([1, 2, 3]), requested: 10 }])
  t.same(sent(covered.effects), [['a', [1, 2, 3]]], 'a read that returned them all: the held ones are dropped')
  t.same(reads(run(covered.state, [{ type: 'notify', lastPosition: 7 }]).effects), [], 'and their notification is known')
  const apart = run(reading, [committed([1], 7), committed([3], 9)])
  t.equal(apart.state.notifiedDuringRead, true, 'a second hand-off not following the held one: read again instead')
  t.same(reads(run(apart.state, [{ type: 'read_done', events: [], requested: 10 }]).effects), [[1, 10]])

  const already = run(caughtUp, [committed([1, 2], 7)])
  t.same([...sent(already.effects), ...reads(already.effects)], [], 'events read already are dropped')

  const small = running(spec({ streamId: 's', maxSize: 2 }), [['a', 1]]).state
  const full = run(small, [{ type: 'read_done', events: queued([1, 2]), requested: 3 }]).state // 1 in flight, 2 queued
  const over = run(full, [committed([3, 4], 9)])
  t.same(over.state.queue.map((q) => q.event.eventNumber), [2], 'a hand-off larger than the room in the queue is not taken')
  t.same(reads(over.effects), [[3, 1]], 'what fits is read instead')
})

t.test('$all takes a hand-off at the next position; a subscription not running ignores it', async (t) => {
  const { state } = running(spec(), [['a', 10]])
  const caughtUp = run(state, [{ type: 'read_done', events: queued([1]), requested: 10 }]).state
  t.same(sent(run(caughtUp, [committed([2, 3], 3)]).effects), [['a', [2, 3]]])
  t.same(reads(run(caughtUp, [committed([4], 4)]).effects), [[2, 10]], 'position 2-3 missing: read')
  const standby = run(initialState(spec()), [{ type: 'connect', subscriberId: 'a', bufferSize: 1 }]).state
  t.same(run(standby, [committed([1], 1)]).effects, [])
})

t.test('a filtered read: positions passed over count as acknowledged, so the checkpoint moves past them', async (t) => {
  const filter = { eventTypes: ['Wanted'], streamPrefix: null }
  const { state } = running(spec({ filter }), [['a', 5]])
  // Events 3 and 7 matched; the read looked at everything up to 50.
  const afterRead = run(state, [{ type: 'read_done', events: queued([3, 7]), requested: 10, scanned: 50 }])
  t.equal(afterRead.state.readPosition, 50)
  t.same(sent(afterRead.effects), [['a', [3, 7]]])
  t.same(saved(afterRead.effects), [2], 'only up to the first unacknowledged match')
  const acked = run(afterRead.state, [{ type: 'ack', subscriberId: 'a', eventNumbers: [3, 7] }])
  t.same(saved(acked.effects), [50], 'once both are acked, past everything looked at')
  const empty = run(acked.state, [{ type: 'notify', lastPosition: 80 }, { type: 'read_done', events: [], requested: 10, scanned: 80 }])
  t.same(reads(empty.effects), [[51, 10]])
  t.same(saved(empty.effects), [80], 'a read that matched nothing still moves the checkpoint')
  t.equal(run(empty.state, [{ type: 'notify', lastPosition: 70 }]).effects.length, 0, 'a notification of what was looked at already reads nothing')
})
