// Reads as the store answers them: a page from a reader worker, decoded and measured, traced
// on the read channel; iterators that hold one page at a time; the bound on a read's size.
import { AbortedError, ConnectionError, StreamDeletedError, StreamNotFoundError } from '../errors.js'
import type { StoreMetrics } from '../observability/metrics.js'
import { channels, traced } from '../observability/channels.js'
import type { ResolvedFilter } from '../filter.js'
import { type Codec, decodeEvents } from '../serializer.js'
import { type Direction, parsePage, type ReadTask } from '../storage/read.js'
import { ALL_STREAM, type CallOptions, type RecordedEvent } from '../types.js'
import { checkCallOptions, checkReadCount } from '../validation.js'
import { iterateAllForward, type Window } from './all_forward.js'
import type { ReaderPool } from './reader_pool.js'

export interface IterateOptions extends CallOptions {
  readBatchSize?: number
}

export class Reads {
  readonly #readers: ReaderPool
  readonly #codec: Codec
  readonly #metrics: StoreMetrics
  readonly #schema: string
  readonly #maxReadCount: number

  constructor(readers: ReaderPool, codec: Codec, metrics: StoreMetrics, schema: string, maxReadCount: number) {
    this.#readers = readers
    this.#codec = codec
    this.#metrics = metrics
    this.#schema = schema
    this.#maxReadCount = maxReadCount
  }

  /** An iterator's page size (default 1000), at most maxReadCount. */
  pageSize(readBatchSize: unknown): number {
    return checkReadCount(readBatchSize ?? 1000, this.#maxReadCount, 'readBatchSize', 'a smaller page does: the iterator reads as many as it needs')
  }

  /** $all forward from `start`, windows read ahead while the caller consumes (all_forward.ts). */
  allForward(start: number, pageSize: number): AsyncIterable<RecordedEvent> {
    return iterateAllForward((from, to, count) => this.#window(from, to, count), start, pageSize)
  }

  /** A read's `count`, at most maxReadCount; the message names the iterator to use instead. */
  count(count: unknown, iterator: string): number {
    return checkReadCount(count, this.#maxReadCount, 'count', `iterate with store.${iterator}(), which holds one page in memory at a time`)
  }

  /** One page of a stream or of $all, as the reader worker sends it, decoded. */
  page(streamId: string, start: number, count: number, direction: Direction, filter: ResolvedFilter | null = null, call: CallOptions = {}): Promise<RecordedEvent[]> {
    const message = () => ({ schema: this.#schema, streamId, direction, start, count })
    return traced(channels.read, message, () => this.#fetchPage(streamId, start, count, direction, filter, call))
  }

  /** A page from a reader worker, decoded; its latency and size go to the metrics. */
  async #fetchPage(streamId: string, start: number, count: number, direction: Direction, filter: ResolvedFilter | null, call: CallOptions): Promise<RecordedEvent[]> {
    const began = performance.now()
    const task: ReadTask =
      streamId === ALL_STREAM ? { op: 'read_all', start, count, direction, filter } : { op: 'read_stream', streamId, start, count, direction }
    const result = await this.#readers.run(task, call)
    if (result.status === 'not_found') throw new StreamNotFoundError(`stream "${streamId}" does not exist`, { streamId })
    if (result.status === 'deleted') throw new StreamDeletedError(`stream "${streamId}" has been deleted`, { streamId })
    if (result.status !== 'found' && result.status !== 'filtered') throw new ConnectionError(`unexpected reader reply ${result.status}`)
    const events = decodeEvents(this.#codec, parsePage(result.events))
    this.#metrics.read(events.length, performance.now() - began)
    return events
  }

  #window(start: number, end: number, count: number): Promise<Window> {
    const message = () => ({ schema: this.#schema, streamId: ALL_STREAM, direction: 'forward' as const, start, count })
    return traced(channels.read, message, () => this.#fetchWindow(start, end, count))
  }

  async #fetchWindow(start: number, end: number, count: number): Promise<Window> {
    const began = performance.now()
    const result = await this.#readers.run({ op: 'read_all_window', start, end, count })
    if (result.status !== 'window') throw new ConnectionError(`unexpected reader reply ${result.status}`)
    const events = decodeEvents(this.#codec, parsePage(result.events))
    this.#metrics.read(events.length, performance.now() - began)
    return { events, last: result.last }
  }

  /** Events page by page, one page in memory at a time; an aborted signal ends it quietly. */
  async *iterate(streamId: string, start: number, options: IterateOptions, direction: Direction, filter: ResolvedFilter | null = null): AsyncGenerator<RecordedEvent> {
    const pageSize = this.pageSize(options?.readBatchSize)
    const call = checkCallOptions({ signal: options?.signal, timeout: options?.timeout })
    let next = start
    for (;;) {
      // Aborted, the iteration ends: a `for await` over it finishes as if the events had.
      if (call.signal?.aborted) return
      let page: RecordedEvent[]
      try {
        // A filtered page is short only when nothing further matches.
        page = await this.page(streamId, next, pageSize, direction, filter, call)
      } catch (error) {
        if (error instanceof AbortedError && call.signal?.aborted) return
        throw error
      }
      yield* page
      const last = page.at(-1)
      if (page.length < pageSize || !last) return
      next = direction === 'forward' ? last.eventNumber + 1 : last.eventNumber - 1
      if (next < 1) return
    }
  }
}
