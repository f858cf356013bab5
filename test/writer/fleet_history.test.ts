// A fleet of four processes appending to one store, then its history checked as a whole:
// every acknowledged append stored whole, at the versions it expected, contiguous in $all;
// every refused one stored not at all; $all gap-free and consistent with real time (an append
// acknowledged before another was called sits before it in $all).
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { checkFleetHistory, runFleet } from '../helpers/fleet_history.js'

t.test('four processes append together: the history is whole, gap-free and in real-time order', async (t) => {
  const config = await freshStoreConfig(t)
  const { records, failedProcesses } = await runFleet(t, config, ['p1', 'p2', 'p3', 'p4'], 2)
  const store = await EventStore.start({ ...config, workers: 1 })
  t.teardown(() => store.stop())
  const report = await checkFleetHistory(store, records, failedProcesses)
  t.equal(report.failedProcesses, 0, 'every process stopped cleanly')
  t.equal(report.gaps, 0, `$all is gap-free (${report.events} events)`)
  t.ok(report.acknowledged > 100, `appends were acknowledged (${report.acknowledged})`)
  t.ok(report.refused > 0, `appends to the shared streams contended (${report.refused} refused)`)
  t.same(report.refusalCodes, ['wrong_expected_version'], 'each refusal was a wrong expected version')
  t.equal(report.refusedStored, 0, 'nothing of a refused append was stored')
  t.same(report.problems, [], 'every acknowledged append is stored whole, at the versions it expected, contiguous in $all')
  t.equal(report.unowned, 0, 'every stored event belongs to an acknowledged append')
  t.equal(report.overtaken, 0, '$all order agrees with real time across the processes')
})

t.test('the check finds what it looks for: a gap, a misplaced or missing append, a stored refusal, an overtaking', async (t) => {
  const event = (eventId: string, eventNumber: number, streamId: string, streamVersion: number) => ({ eventId, eventNumber, streamId, streamVersion })
  const stored = [event('b1', 1, 'b', 1), event('a1', 2, 'a', 1), event('c1', 4, 'c', 1), event('d1', 5, 'd', 1)]
  const store = {
    async *streamAllForward() {
      yield* stored
    },
  } as unknown as EventStore
  const record = (streamId: string, expected: number, eventIds: string[], invokedAt: number, settledAt: number, outcome = 'ok') =>
    ({ process: 'p', streamId, expected, eventIds, invokedAt: String(invokedAt), settledAt: String(settledAt), outcome })
  const report = await checkFleetHistory(store, [
    record('a', 0, ['a1'], 1, 2),
    // Called after a1 was acknowledged, yet placed before it.
    record('b', 0, ['b1'], 3, 4),
    // Expected 5, stored at version 1.
    record('c', 5, ['c1'], 5, 6),
    record('d', 0, ['d1'], 7, 8, 'wrong_expected_version'),
    record('e', 0, ['e1'], 9, 10),
  ])
  t.equal(report.gaps, 1, 'position 3 is missing')
  t.equal(report.overtaken, 1, 'b overtook a')
  t.equal(report.refusedStored, 1, "d's refused event is stored")
  t.same(report.problems, ['c at 5: event 0 at version 1', 'p e: acknowledged but not stored whole'])
})
