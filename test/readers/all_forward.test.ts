import t from 'tap'
import { iterateAllForward, type ReadWindow } from '../../lib/readers/all_forward.js'
import type { RecordedEvent } from '../../lib/types.js'

/** A fake $all: `positions` committed so far (gaps allowed); records every read and how many overlap. */
function fakeAll(positions: number[]) {
  const reads: [number, number][] = []
  let inFlight = 0
  let mostInFlight = 0
  const read: ReadWindow = async (from, to, count) => {
    reads.push([from, to])
    inFlight += 1
    mostInFlight = Math.max(mostInFlight, inFlight)
    // Answers on a later turn of the event loop, as a real read does: reads started meanwhile overlap.
    await new Promise(setImmediate)
    inFlight -= 1
    const events = positions.filter((p) => p >= from && p <= to).slice(0, count).map((p) => ({ eventNumber: p }) as RecordedEvent)
    return { events, last: positions.at(-1) ?? 0 }
  }
  return { read, reads, positions, mostInFlight: () => mostInFlight }
}

async function collect(iterable: AsyncIterable<RecordedEvent>, each?: (n: number) => void): Promise<number[]> {
  const seen: number[] = []
  for await (const event of iterable) {
    seen.push(event.eventNumber)
    each?.(event.eventNumber)
  }
  return seen
}

t.test('reads ranges ahead, in parallel, and yields every event once, in order, across gaps', async (t) => {
  const positions = Array.from({ length: 95 }, (_, i) => i + 1).filter((p) => p < 30 || p > 40) // 30..40 hard-deleted
  const all = fakeAll(positions)
  t.same(await collect(iterateAllForward(all.read, 0, 10, 2)), positions)
  t.equal(all.mostInFlight(), 2, 'two ranges were read at once')
  t.same(all.reads.slice(0, 3), [[1, Number.MAX_SAFE_INTEGER], [11, 20], [21, 30]], 'after the first page, fixed ranges up to the last position')
})

t.test('events committed during the iteration are read too', async (t) => {
  const all = fakeAll(Array.from({ length: 20 }, (_, i) => i + 1))
  const seen = await collect(iterateAllForward(all.read, 5, 10, 2), (n) => {
    if (n === 10) all.positions.push(21, 22, 23)
  })
  t.same(seen, Array.from({ length: 19 }, (_, i) => i + 5))
})

t.test('events committed after every range was read are still read before the iteration ends', async (t) => {
  // Reads see $all as it was when they started, as a statement's snapshot does: the ranges
  // read ahead right after the first page miss what the consumer appends while on it.
  const positions = [1, 2, 3, 4, 5, 6, 7]
  const read: ReadWindow = async (from, to, count) => {
    const events = positions.filter((p) => p >= from && p <= to).slice(0, count).map((p) => ({ eventNumber: p }) as RecordedEvent)
    const last = positions.at(-1) ?? 0
    await new Promise(setImmediate)
    return { events, last }
  }
  const seen = await collect(iterateAllForward(read, 0, 3, 2), (n) => {
    if (n === 2) positions.push(8, 9, 10, 11, 12)
  })
  t.same(seen, Array.from({ length: 12 }, (_, i) => i + 1))
})

t.test('a short first page ends the iteration; a read-ahead the consumer never reaches is dropped quietly', async (t) => {
  t.same(await collect(iterateAllForward(fakeAll([1, 2, 3]).read, 0, 10)), [1, 2, 3])
  t.same(await collect(iterateAllForward(fakeAll([]).read, 0, 10)), [])
  let calls = 0
  const failingAhead: ReadWindow = async (from) => {
    calls += 1
    if (calls > 1) throw new Error('reader gone')
    return { events: Array.from({ length: 10 }, (_, i) => ({ eventNumber: from + i }) as RecordedEvent), last: 100 }
  }
  const seen: number[] = []
  for await (const event of iterateAllForward(failingAhead, 0, 10)) {
    seen.push(event.eventNumber)
    if (seen.length === 3) break
  }
  t.same(seen, [1, 2, 3])
  await new Promise(setImmediate) // Node reports unhandled rejections before the next turn: one would fail the run here
  calls = 0
  await t.rejects(collect(iterateAllForward(failingAhead, 0, 10)), /reader gone/, 'reached, the failed read-ahead rejects')
})
