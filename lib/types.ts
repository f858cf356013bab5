// The shapes users read and write (README, Writing and Reading).

export interface EventData<D = unknown, M = Record<string, unknown>> {
  eventType: string
  data: D
  metadata?: M
  /** UUID; generated when absent. */
  eventId?: string
  causationId?: string
  correlationId?: string
}

export interface RecordedEvent<D = unknown, M = Record<string, unknown>> {
  /** Position in the stream it was read from; for `$all`, the global position. */
  eventNumber: number
  eventId: string
  /** The stream the event was originally appended to. */
  streamId: string
  /** Its version in the original stream (first event = 1). */
  streamVersion: number
  eventType: string
  data: D
  metadata: M
  causationId: string | null
  correlationId: string | null
  createdAt: Date
}

export type ExpectedVersion = number | 'any_version' | 'no_stream' | 'stream_exists'

export interface WriteOptions {
  signal?: AbortSignal
  /** Milliseconds the request may wait in the writer's queue. */
  timeout?: number
}

/** How long a read may take, and what aborts it: either rejects it (AbortedError, TimeoutError) and cancels its statement. */
export interface CallOptions {
  signal?: AbortSignal
  /** Milliseconds. */
  timeout?: number
}

export type StreamStatus = 'created' | 'deleted'

export interface StreamInfo {
  streamId: string
  streamVersion: number
  createdAt: Date | null
  deletedAt: Date | null
  status: StreamStatus
}

export interface SnapshotData<D = unknown, M = Record<string, unknown>> {
  sourceUuid: string
  sourceVersion: number
  sourceType: string
  data: D
  metadata?: M
}

export interface RecordedSnapshot<D = unknown, M = Record<string, unknown>> extends SnapshotData<D, M> {
  metadata: M
  createdAt: Date
}

export interface PaginateOptions extends CallOptions {
  page?: number
  pageSize?: number
  sortBy?: 'streamId' | 'streamVersion' | 'createdAt' | 'deletedAt'
  sortDir?: 'asc' | 'desc'
  /** Only streams whose id contains this text (case-insensitive). */
  search?: string
}

export interface StreamPage {
  entries: StreamInfo[]
  pageNumber: number
  pageSize: number
  totalEntries: number
  totalPages: number
}

export const ALL_STREAM = '$all'
