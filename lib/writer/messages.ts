// What the writer actor's mailbox receives (its `receive` clauses), and the events in the
// form the writer stores them: validated and serialised on the caller's turn, not the writer's.
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

/** How many rows a request writes; the writer caps a batch by it. */
export function requestSize(request: WriterMessage): number {
  if (request.type === 'append') return request.events.length
  return request.type === 'link' ? request.eventIds.length : 1
}
