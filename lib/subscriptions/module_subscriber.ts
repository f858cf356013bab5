// An actor-module subscriber runs alone on a thread of its own (a piscina pool of one
// thread, workers/subscriber_worker.ts), not in the store's worker pool: user code that
// throws, hangs, calls process.exit or crashes its thread ends its own subscription only
// (with reason 'error'), never the store's actors or other subscribers.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { oneThreadPool, type WorkerContextData } from '../actors/pool.js'
import { fromWire, InvalidArgumentError } from '../errors.js'
import { workerUrl } from '../package_files.js'
import type { Report } from '../reports.js'
import type { ClosedReason } from './handle.js'
import type { ModuleHost, ModuleOutcome, ModuleStatus, ModuleSubscriberTask } from './messages.js'

export interface SubscriberThread {
  /** Settles when the subscriber is over: its subscription ended, it failed, or its thread died. */
  ended: Promise<ClosedReason>
  /** Ends the thread at once (the store is stopping). */
  terminate(): Promise<void>
}

/** Starts the subscriber's thread on `port` (its end of the channel to the actor); resolves once its module is loaded. */
export function startModuleSubscriber(context: WorkerContextData, host: ModuleHost, port: MessagePort, report: Report): Promise<SubscriberThread> {
  const pool = oneThreadPool(workerUrl('subscriber_worker'), context)
  const status = new MessageChannel()
  const task = pool.run({ ...host, port, status: status.port2 } satisfies ModuleSubscriberTask, { transferList: [port, status.port2] as never }) as Promise<ModuleOutcome>
  const close = () => pool.destroy().catch((error: unknown) => report('warning', 'subscription', `closing the thread of subscriber ${host.moduleUrl} failed`, error))
  const ended: Promise<ClosedReason> = task.then(
    (outcome) => ({ reason: outcome.type === 'ended' ? outcome.reason : 'error', error: outcome.error ? fromWire(outcome.error) : null }),
    (error: unknown) => ({ reason: 'error', error: new Error(`the subscriber thread of ${host.moduleUrl} died: ${(error as Error)?.message ?? error}`) }),
  )
  void ended.finally(close)
  return new Promise((resolve, reject) => {
    status.port1.once('message', (_loaded: ModuleStatus) => {
      status.port1.close()
      resolve({ ended, terminate: close })
    })
    void task.then(
      (outcome) => {
        status.port1.close()
        if (outcome.type === 'load_failed') {
          reject(new InvalidArgumentError(`cannot load the subscriber module ${host.moduleUrl}: ${fromWire(outcome.error).message}`, { module: host.moduleUrl }))
        }
      },
      (error: unknown) => {
        status.port1.close()
        reject(error)
      },
    )
  })
}
