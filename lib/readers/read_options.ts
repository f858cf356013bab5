// The options of the store's reads and iterators.
import type { EventFilter } from '../filter.js'
import type { CallOptions } from '../types.js'

export interface StreamReadOptions {
  /** Events fetched per page; default 1000. */
  readBatchSize?: number
  /** Ends the iteration (cleanly: the loop finishes) and cancels the page being read. */
  signal?: AbortSignal
  /** Milliseconds one page may take: beyond, the iteration rejects with TimeoutError. */
  timeout?: number
}

export interface ReadAllOptions extends CallOptions {
  /** Only events of these types, or of streams with this prefix, evaluated by PostgreSQL. */
  filter?: EventFilter
}

export type StreamAllOptions = StreamReadOptions & ReadAllOptions
