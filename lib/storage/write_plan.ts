// What one write transaction is to do, as the writer planned it (lib/writer/group_commit.ts)
// and storage executes it (lib/storage/append.ts): plain columns, no decisions left.

export interface StoredStream {
  streamId: number
  streamUuid: string
  version: number
  deleted: boolean
}

export interface StoredEvent {
  eventId: string
  position: number
  /** Internal id of its original stream. */
  streamId: number
}

/** What the batch's reads found, under the $all lock. */
export interface BatchSnapshot {
  lastPosition: number
  streams: StoredStream[]
  events: StoredEvent[]
  /** Existing links `(streamId, position)` among the batch's targets. */
  links: { streamId: number; position: number }[]
}

/**
 * The batch's events as columns, one array per field, for `unnest` in the write statements:
 * PostgreSQL reads these faster than one JSON document of all events (benchmarks/README.md).
 */
export interface EventColumns {
  /** Global positions (counted from 1 within the batch on the expected path). */
  positions: number[]
  eventIds: string[]
  /** The stream_uuid of each event's stream. */
  streams: string[]
  versions: number[]
  types: string[]
  causationIds: (string | null)[]
  correlationIds: (string | null)[]
  /** JSON texts as encodeTerm made them (lib/serializer.ts). */
  data: string[]
  metadata: string[]
}

/** The batch's links as columns: the stream, the version there, the linked event's position. */
export interface LinkColumns {
  streams: string[]
  versions: number[]
  positions: number[]
}

export interface WritePlan {
  newStreams: { streamUuid: string; version: number }[]
  grownStreams: { streamId: number; streamUuid: string; version: number }[]
  lastPosition: number
  events: EventColumns
  links: LinkColumns
  /** Events to write (the length of the event columns). */
  eventCount: number
}

/** What the locking write looks up before its plan can be made. */
export interface Lookups {
  streamUuids: string[]
  eventIds: string[]
  hasLinks: boolean
}

/**
 * The events a batch wrote, as committed, for this process's subscriptions
 * (lib/subscriptions/hand_off.ts): they need not read back what the writer just wrote.
 */
export interface CommittedEvents {
  events: EventColumns
  /** Added to each of `events.positions` gives the global position. */
  positionOffset: number
  /** Every event's created_at, epoch milliseconds, as the reads return it. */
  createdAt: number
}

/** What the one-statement write assumes of a batch's streams, checked by the statement under the $all lock. */
export interface Assumption {
  /** The expected states as a snapshot to plan against; positions count from 0. */
  snapshot: BatchSnapshot
  /**
   * Streams whose first request said 'any_version' or 'stream_exists': planned as if at
   * version 0, their versions counted from the version the statement finds.
   */
  relative: Map<string, RelativeExpectation>
}

export type RelativeExpectation = 'any_version' | 'stream_exists'
