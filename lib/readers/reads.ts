// Reads as the store answers them: a page from a reader worker, decoded and measured, traced
// on the read channel; iterators that hold one page at a time; the bound on a read's size.
import { AbortedError, ConnectionError, StreamDeletedError, StreamNotFoundError } from '../errors.js'
import type { StoreMetrics } from '../observability/metrics.js'
import { channels, traced } from '../observability/channels.js'
import { checkFilter, type ResolvedFilter } from '../filter.js'
import { type Codec, decodeEvents } from '../serializer.js'
import { type Direction, parsePage, type ReadTask } from '../storage/read.js'
import { ALL_STREAM, type CallOptions, type RecordedEvent } from '../types.js'
import { checkCallOptions, checkPlainObject, checkPosition, checkReadCount, checkStreamId } from '../validation.js'
import type { ReadAllOptions, StreamAllOptions, StreamReadOptions } from './read_options.js'
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

  /** store.readStreamForward / readStreamBackward: one page of a stream, its arguments checked. */
  readStream(streamId: string, startVersion: number, count: number, direction: Direction, options: CallOptions | undefined): Promise<RecordedEvent[]> {
    const backward = direction === 'backward'
    const checked = [checkStreamId(streamId), checkPosition(startVersion, 'start version', backward), this.count(count, backward ? 'streamBackward' : 'streamForward')] as const
    return this.page(...checked, direction, null, checkCallOptions(options))
  }

  /** store.readAllStreamsForward / readAllStreamsBackward: one page of $all, its arguments checked. */
  readAll(startPosition: number, count: number, direction: Direction, options: ReadAllOptions): Promise<RecordedEvent[]> {
    const { filter } = checkPlainObject(options, 'options') as ReadAllOptions
    const backward = direction === 'backward'
    const start = checkPosition(startPosition, 'start position', backward)
    const checkedCount = this.count(count, backward ? 'streamAllBackward' : 'streamAllForward')
    return this.page(ALL_STREAM, start, checkedCount, direction, checkFilter(filter, 'options.filter'), checkCallOptions(options))
  }

  /** store.streamForward / streamBackward: a stream, one page in memory at a time. */
  iterateStream(streamId: string, startVersion: number, direction: Direction, options: StreamReadOptions): AsyncIterable<RecordedEvent> {
    return this.iterate(checkStreamId(streamId), checkPosition(startVersion, 'start version', direction === 'backward'), options, direction)
  }

  /** store.streamAllForward / streamAllBackward: $all, one page in memory at a time. */
  iterateAll(startPosition: number, direction: Direction, options: StreamAllOptions): AsyncIterable<RecordedEvent> {
    if (direction === 'backward') return this.iterate(ALL_STREAM, checkPosition(startPosition, 'start position', true), options, 'backward', checkFilter(options?.filter, 'options.filter'))
    const start = checkPosition(startPosition, 'start position')
    const pageSize = this.pageSize(options?.readBatchSize)
    const filter = checkFilter(options?.filter, 'options.filter')
    // Filtered pages are read one after the other: where the next one starts is known only
    // once the last is back. So are cancellable ones, which then end at a page boundary.
    if (filter || options?.signal !== undefined || options?.timeout !== undefined) return this.iterate(ALL_STREAM, Math.max(start, 1), options, 'forward', filter)
    return this.allForward(start, pageSize)
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
