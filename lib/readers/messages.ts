// What the main thread and a reader actor say to each other over the actor's port.
import type { WireError } from '../errors.js'
import type { ReadResult, ReadTask } from '../storage/read.js'

/** The export piscina runs as a reader actor (workers/reader_worker.ts); the pool's balancer puts one on each thread. */
export const READER_ACTOR = 'readerActor'

/** A read for the actor, `id` matching the reply to it; or the cancelling of read `id`. */
export type ReadRequest = { id: number; task: ReadTask } | { id: number; cancel: true }

/** Errors travel as values (lib/errors.ts toWire): a thrown error crossing threads keeps only its message. */
export interface ReadReply {
  id: number
  result: ReadResult | { status: 'error'; error: WireError }
}
