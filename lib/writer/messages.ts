// What the writer actor's mailbox receives (its `receive` clauses), and the events in the
// form the writer stores them: validated and serialised.
import type { ExpectedVersion } from '../types.js'

export interface PreparedEvent {
  eventId: string
  eventType: string
  causationId: string | null
  correlationId: string | null
  /** JSON text of `data`, checked to be storable. */
  dataJson: string
  /** JSON text of `metadata` (`{}` when none was given). */
  metadataJson: string
  /** True when the caller chose the id, so it may clash with a stored one. */
  idGiven: boolean
}

export type WriteRequest =
  | { type: 'append'; streamId: string; expected: ExpectedVersion; events: PreparedEvent[] }
  | { type: 'link'; streamId: string; expected: ExpectedVersion; eventIds: string[] }

/** A stream deletion: serialised with the appends, in a transaction of its own. */
export interface DeleteRequest {
  type: 'delete'
  streamId: string
  expected: ExpectedVersion
  mode: 'soft' | 'hard'
}

export type WriterMessage = WriteRequest | DeleteRequest

/**
 * An append as the store posts it: its events are checked and serialised when the writer
 * takes it (`prepare`, which throws InvalidArgumentError), not on the caller's turn, so the
 * writer can send the first half of a burst to PostgreSQL before preparing the rest.
 */
export interface PendingAppend {
  type: 'pending append'
  expected: ExpectedVersion
  eventCount: number
  prepare: () => WriteRequest
}

/** How many rows a request writes; the writer caps a batch by it. */
export function requestSize(request: WriterMessage | PendingAppend): number {
  if (request.type === 'pending append') return request.eventCount
  if (request.type === 'append') return request.events.length
  return request.type === 'link' ? request.eventIds.length : 1
}

/** UTF-16 units of an append's data and metadata texts; the writer caps a batch by them too. */
export function requestTextUnits(request: WriterMessage): number {
  if (request.type !== 'append') return 0
  let units = 0
  for (const event of request.events) units += event.dataJson.length + event.metadataJson.length
  return units
}
