// When the writer starts a batch and what goes into it: decisions over the head of its queue
// and the batches in flight, with no I/O.
//
// Large batches that the one-statement write can take (lib/storage/append.ts) are pipelined:
// up to PIPELINE_DEPTH go out back to back on the writer's own connection, which runs them in
// the order sent, and while PostgreSQL writes one the writer prepares the next. Any other
// batch goes alone: a small one gains nothing from overlapping its preparation and commits
// fuller when it waits for the one before. Starting from idle, half of a large queue goes
// first and the rest right behind it, so PostgreSQL starts writing before the whole queue is
// prepared and planned. Nothing is pipelined while other processes write to the same $all
// (other_writers.ts).
import { assumeExpectedStates } from './group_commit.js'
import { type PendingAppend, requestSize, requestTextUnits, type WriteRequest, type WriterMessage } from './messages.js'

/** A queued request as the policy sees it; settled ones are skipped. */
export interface Queued {
  readonly request: WriterMessage | PendingAppend
  readonly settled: boolean
}

/** The queue from its head. */
export interface QueueView {
  readonly length: number
  at(index: number): Queued | undefined
}

/** Pipelined batches in flight at once. */
export const PIPELINE_DEPTH = 2

/** Fewest rows (events + links) a batch has for it to be pipelined, unless the writer is given another. */
export const PIPELINE_MIN_ROWS = 200

/**
 * Most UTF-16 units of data and metadata in one batch: they travel joined into one text
 * parameter each, and a JavaScript string holds at most 2^29 units.
 */
export const MAX_BATCH_TEXT_UNITS = 2 ** 27

/** The next batch: how many live requests it takes from the head, and whether it is pipelined. */
export interface Turn {
  length: number
  pipelined: boolean
}

/** The batches being written: up to PIPELINE_DEPTH pipelined ones, or one exclusive one. */
export class InFlight {
  count = 0
  #exclusive = false
  /** The streams the batches in flight write, each with how many of them write it. */
  readonly #streams = new Map<string, number>()

  /** Whether another batch may start now. */
  get open(): boolean {
    return !this.#exclusive && this.count < PIPELINE_DEPTH
  }

  start(streams: readonly string[], pipelined: boolean): void {
    this.#countStreams(streams, 1)
    this.count += 1
    this.#exclusive = !pipelined
  }

  end(streams: readonly string[]): void {
    this.#countStreams(streams, -1)
    this.count -= 1
    this.#exclusive = false
  }

  /** Whether one of the first `length` live requests writes a stream a batch in flight writes. */
  writesAnyOf(queue: QueueView, length: number): boolean {
    for (let i = 0, seen = 0; seen < length; i += 1) {
      const queued = queue.at(i) as Queued
      if (queued.settled) continue
      seen += 1
      if (this.#streams.has((queued.request as WriterMessage).streamId)) return true
    }
    return false
  }

  #countStreams(streams: readonly string[], change: 1 | -1): void {
    for (const stream of streams) {
      const count = (this.#streams.get(stream) ?? 0) + change
      if (count === 0) this.#streams.delete(stream)
      else this.#streams.set(stream, count)
    }
  }
}

/**
 * Whether only the first half of the queue is prepared before a batch goes: from idle, when
 * the head (settled ones dropped) is a pending append and the queue holds enough rows for two
 * pipelined batches, the rest is prepared while PostgreSQL writes the first half.
 */
export function preparesHalf(queue: QueueView, idle: boolean, mayPipeline: boolean, minRows = PIPELINE_MIN_ROWS): boolean {
  return idle && mayPipeline && queue.at(0)?.request.type === 'pending append' && rowsOf(queue, Infinity) >= 2 * minRows
}

/** How many live requests from the head are prepared before the next batch is chosen. */
export function toPrepare(live: number, half: boolean): number {
  return half ? Math.ceil(live / 2) : Infinity
}

/**
 * The next batch to start, or null to wait for the batches in flight (their end asks again).
 * `mayPipeline`: the writer has a connection of its own to pipeline on and no other process
 * writes meanwhile; `halved`: the queue was prepared half at a time (preparesHalf), so the
 * batch is the prepared half; `minRows`: the fewest rows of a pipelined batch.
 */
export function nextTurn(queue: QueueView, inFlight: InFlight, maxBatchRows: number, mayPipeline: boolean, halved: boolean, minRows = PIPELINE_MIN_ROWS): Turn | null {
  const idle = inFlight.count === 0
  const extent = batchExtent(queue, maxBatchRows)
  const rows = extent.rows
  let length = extent.length
  const pipelined = mayPipeline && rows >= minRows && isPipelinable(queue, length)
  if (pipelined && idle && !halved) {
    // With nothing in flight and the queue already prepared, half of it goes first and the
    // rest right behind it, planned while the first half is written, if each half is large
    // enough to be pipelined.
    const half = Math.ceil(length / 2)
    const firstRows = rowsOf(queue, half)
    if (firstRows >= minRows && rows - firstRows >= minRows) length = half
  } else if (!pipelined && !idle) {
    return null
  }
  // A batch whose statement fails is rewritten after the one behind it has committed: the
  // one behind must not touch its streams, or it could take their versions first.
  if (!idle && inFlight.writesAnyOf(queue, length)) return null
  return { length, pipelined }
}

/** How many live requests the next batch takes from the head: prepared ones, within the caps. */
export function batchLength(queue: QueueView, maxBatchRows: number, maxTextUnits = MAX_BATCH_TEXT_UNITS): number {
  return batchExtent(queue, maxBatchRows, maxTextUnits).length
}

/** The next batch's live requests from the head (batchLength) and the rows they write. */
function batchExtent(queue: QueueView, maxBatchRows: number, maxTextUnits = MAX_BATCH_TEXT_UNITS): { length: number; rows: number } {
  let rows = 0
  let units = 0
  let length = 0
  for (let index = 0; index < queue.length; index += 1) {
    const queued = queue.at(index) as Queued
    if (queued.settled) continue
    if (queued.request.type === 'pending append') break // not prepared yet
    // A deletion goes alone: what follows it in the queue must see it done.
    if (queued.request.type === 'delete' && length > 0) break
    const size = requestSize(queued.request)
    const text = requestTextUnits(queued.request)
    if (length > 0 && (rows + size > maxBatchRows || units + text > maxTextUnits)) break
    rows += size
    units += text
    length += 1
    if (queued.request.type === 'delete') break
  }
  return { length, rows }
}

/** Rows of the first `length` live requests (all of them with Infinity). */
export function rowsOf(queue: QueueView, length: number): number {
  let rows = 0
  for (let i = 0, seen = 0; i < queue.length && seen < length; i += 1) {
    const queued = queue.at(i) as Queued
    if (queued.settled) continue
    seen += 1
    rows += requestSize(queued.request)
  }
  return rows
}

/** Whether the first `length` live requests are appends the one-statement write can take: safe to pipeline. */
export function isPipelinable(queue: QueueView, length: number): boolean {
  const requests: WriteRequest[] = []
  for (let i = 0; requests.length < length; i += 1) {
    const queued = queue.at(i) as Queued
    if (queued.settled) continue
    if (queued.request.type !== 'append') return false
    requests.push(queued.request)
  }
  return assumeExpectedStates(requests) !== null
}

/** Whether an unprepared append is queued: it is always behind the prepared ones. */
export function hasPending(queue: QueueView): boolean {
  for (let i = queue.length - 1; i >= 0; i -= 1) {
    const queued = queue.at(i) as Queued
    if (!queued.settled) return queued.request.type === 'pending append'
  }
  return false
}
