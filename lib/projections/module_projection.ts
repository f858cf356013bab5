// A projection whose handler is an actor module runs alone on a thread of its own (a piscina
// pool of one thread, workers/projection_worker.ts) with its own connections, as actor-module
// subscribers do: a handler that hangs or crashes its thread ends that projection only.
import { EventEmitter } from 'node:events'
import { MessageChannel } from 'node:worker_threads'
import { cancellable } from '../actors/cancellable.js'
import { oneThreadPool, type WorkerContextData } from '../actors/pool.js'
import type { CallOptions } from '../types.js'
import { checkCallOptions } from '../validation.js'
import { fromWire, InvalidArgumentError } from '../errors.js'
import { LockHost } from '../locks/host.js'
import type { Locks } from '../locks/lock_session.js'
import { workerUrl } from '../package_files.js'
import type { Report } from '../reports.js'
import type { ProjectionControl, ProjectionOutcome, ProjectionStatus, ProjectionTask } from './messages.js'
import type { ProjectionEnd, ResolvedProjectOptions, RunningProjection } from './projection.js'

class ModuleProjection extends EventEmitter<{ error: [Error] }> implements RunningProjection {
  readonly name: string
  readonly closed: Promise<ProjectionEnd>
  readonly #stop: () => void
  readonly halt: () => void

  constructor(name: string, closed: Promise<ProjectionEnd>, stop: () => void, halt: () => void) {
    super()
    this.name = name
    this.closed = closed
    this.#stop = stop
    this.halt = halt
    void closed.then((end) => {
      if (end.error && this.listenerCount('error') > 0) this.emit('error', end.error)
    })
  }

  async stop(options?: CallOptions): Promise<void> {
    const call = checkCallOptions(options)
    this.#stop()
    await cancellable(call, 'stopping the projection', () => this.closed)
  }
}

/** Starts the projection's thread, which takes its lock on `locks`; resolves once its module is loaded. */
export function startModuleProjection(context: WorkerContextData, locks: Locks, name: string, moduleUrl: string, options: ResolvedProjectOptions, report: Report): Promise<RunningProjection> {
  const pool = oneThreadPool(workerUrl('projection_worker'), context)
  const control = new MessageChannel()
  const lockHost = new LockHost(locks, report)
  // The signal stays here: it cannot cross threads.
  const task = pool.run(
    { name, moduleUrl, options: { ...options, signal: undefined }, control: control.port2, locks: lockHost.port } satisfies ProjectionTask,
    { transferList: [control.port2, lockHost.port] as never },
  ) as Promise<ProjectionOutcome>
  let halted = false
  const close = () => pool.destroy().catch((error: unknown) => report('warning', 'projection', `closing the thread of projection "${name}" failed`, error))
  const closed: Promise<ProjectionEnd> = task.then(
    (outcome) => ({ reason: outcome.type === 'ended' ? outcome.reason : 'error', error: outcome.error ? fromWire(outcome.error) : null }),
    (error: unknown) => {
      if (halted) return { reason: 'stopped', error: null }
      const failure = new Error(`the thread of projection "${name}" died: ${(error as Error)?.message ?? error}`)
      report('error', 'projection', `projection "${name}" stopped`, failure, { name })
      return { reason: 'error', error: failure }
    },
  )
  void closed.finally(() => {
    control.port1.close()
    lockHost.close()
    return close()
  })
  const halt = () => {
    halted = true
    void close()
  }
  const handle = new ModuleProjection(name, closed, () => control.port1.postMessage({ type: 'stop' } satisfies ProjectionControl), halt)
  options.signal?.addEventListener('abort', () => void handle.stop(), { once: true })
  return new Promise((resolve, reject) => {
    control.port1.once('message', (_started: ProjectionStatus) => resolve(handle))
    void task.then(
      (outcome) => {
        if (outcome.type === 'load_failed') reject(new InvalidArgumentError(`cannot load the projection module ${moduleUrl}: ${fromWire(outcome.error).message}`, { module: moduleUrl }))
      },
      (error: unknown) => reject(error),
    )
  })
}
