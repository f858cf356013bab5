// The main thread's end of one worker-thread actor's way to the store's lock session: a
// postgres.js connection cannot cross threads, so the actor calls here to take and release
// its locks, and the session's news for a holder is called back on the actor.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Caller, serve } from '../actors/calls.js'
import { ConnectionError } from '../errors.js'
import type { Report } from '../reports.js'
import type { Locks } from './lock_session.js'
import type { HolderCalls, LockCalls } from './messages.js'

export class LockHost {
  /** The actor's end (lib/locks/remote.ts), handed over with its task. */
  readonly port: MessagePort
  readonly #holders: Caller<HolderCalls>
  readonly #report: Report

  constructor(locks: Locks, report: Report) {
    const { port1, port2 } = new MessageChannel()
    this.port = port2
    this.#report = report
    this.#holders = new Caller(port1, 'the call to a lock holder')
    serve<LockCalls>(port1, {
      tryLock: (name) => locks.tryLock(name, { lost: () => this.#tell('lost', name), handOver: () => this.#tell('handOver', name) }),
      unlock: (name, leave) => locks.unlock(name, leave),
    })
  }

  /**
   * Ends the channel once the actor's task has ended; what it still holds is for the caller
   * to release, on the session, which outlives the actor's thread.
   */
  close(): void {
    this.#holders.close(new ConnectionError('the actor holding these locks stopped'))
  }

  #tell(method: keyof HolderCalls, name: string): void {
    // Closed, its actor is gone: its lock is released when its task ends.
    this.#holders.call(method, [name]).catch((error: unknown) => {
      if (!this.#holders.closed) this.#report('warning', 'lock', `the holder of ${name} could not be told (${method})`, error)
    })
  }
}
