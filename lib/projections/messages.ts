// What crosses between the main thread and an actor-module projection's thread
// (workers/projection_worker.ts): the task, the control port's messages, the task's outcome.
import type { MessagePort } from 'node:worker_threads'
import type { WireError } from '../errors.js'
import type { ResolvedProjectOptions } from './projection.js'

export interface ProjectionTask {
  name: string
  moduleUrl: string
  options: ResolvedProjectOptions
  /** ProjectionControl arrives here; ProjectionStatus goes out. */
  control: MessagePort
  /** The store's lock session is called here (lib/locks/messages.ts). */
  locks: MessagePort
}

/** Into the projection's thread. */
export type ProjectionControl = { type: 'stop' }

/** Out of it: the module is loaded and the projection runs. */
export type ProjectionStatus = { type: 'started' }

export type ProjectionOutcome = { type: 'load_failed'; error: WireError } | { type: 'ended'; reason: 'stopped' | 'error'; error: WireError | null }
