// What the main thread and a reader actor say to each other: the piscina task that starts
// the actor, and what the actor answers on its port (lib/actors/calls.ts).
import type { MessagePort } from 'node:worker_threads'
import type { ReadResult, ReadTask } from '../storage/read.js'

/** The export piscina runs as a reader actor (workers/reader_worker.ts). */
export const READER_ACTOR = 'readerActor'

/** The actor's piscina task: it serves reads on `port` until the store closes it. */
export interface ReaderTask {
  port: MessagePort
}

/** What a reader actor answers, called over its port. */
export interface ReaderCalls {
  /** Runs a read; cancelled, its statement is cancelled in PostgreSQL. */
  read(task: ReadTask): ReadResult
}
