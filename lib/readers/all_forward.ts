// Iterating $all forward with reads ahead. Positions are handed out gap-free in commit order,
// so once the last committed position is known, every range up to it is final: the ranges
// can be read at the same time by different reader actors and yielded in order. At most
// `ahead` pages are read ahead of the one being consumed, so memory stays flat.
import type { RecordedEvent } from '../types.js'

/** The events with positions from..to (at most count), and the last position committed. */
export interface Window {
  events: RecordedEvent[]
  last: number
}

export type ReadWindow = (from: number, to: number, count: number) => Promise<Window>

export async function* iterateAllForward(read: ReadWindow, start: number, pageSize: number, ahead = 2): AsyncGenerator<RecordedEvent> {
  let next = Math.max(start, 1)
  let last = 0
  const pending: Promise<Window>[] = []
  const learn = (window: Window) => {
    last = Math.max(last, window.last, window.events.at(-1)?.eventNumber ?? 0)
  }
  const readAhead = () => {
    while (pending.length < ahead && next <= last) {
      const to = Math.min(next + pageSize - 1, last)
      const reading = read(next, to, pageSize)
      reading.catch(() => {}) // a page the consumer never reaches must not become an unhandled rejection
      pending.push(reading)
      next = to + 1
    }
  }
  for (;;) {
    // An ordinary read from `next`: the first page, and once the ranges known are read, a look
    // for events committed since (the ranges may all have been read before they were). It
    // also tells where $all ends.
    const page = await read(next, Number.MAX_SAFE_INTEGER, pageSize)
    if (page.events.length === 0) return
    learn(page)
    next = (page.events.at(-1) as RecordedEvent).eventNumber + 1
    readAhead()
    yield* page.events
    while (pending.length > 0) {
      const window = await (pending.shift() as Promise<Window>)
      learn(window) // events committed meanwhile extend the ranges still to read
      readAhead()
      yield* window.events
    }
  }
}
