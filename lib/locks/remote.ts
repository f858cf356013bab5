// An actor's Locks on a worker thread: the store's lock session, called on the main thread
// over the port its task brought (lib/locks/host.ts serves the other end).
import type { MessagePort } from 'node:worker_threads'
import { Caller, serve } from '../actors/calls.js'
import { ConnectionError } from '../errors.js'
import type { LockHolder, Locks } from './lock_session.js'
import type { HolderCalls, LockCalls } from './messages.js'

/** Unanswered by then, a call fails rather than hold its actor up: the main thread is stuck. */
const LOCK_CALL_TIMEOUT_MS = 10_000

export class RemoteLocks implements Locks {
  readonly #session: Caller<LockCalls>
  readonly #holders = new Map<string, LockHolder>()
  /** Locks asked for and not yet answered; true once a loss was told meanwhile. */
  readonly #attempts = new Map<string, boolean>()

  constructor(port: MessagePort) {
    this.#session = new Caller(port, "the call to the store's lock session")
    serve<HolderCalls>(port, {
      lost: (name) => {
        if (this.#attempts.has(name)) this.#attempts.set(name, true)
        const holder = this.#holders.get(name)
        this.#holders.delete(name)
        holder?.lost()
      },
      handOver: (name) => this.#holders.get(name)?.handOver(),
    })
  }

  async tryLock(name: string, holder: LockHolder): Promise<boolean> {
    this.#attempts.set(name, false)
    try {
      // A loss told before the answer (the session lost between taking and answering) means not held.
      const acquired = (await this.#session.call('tryLock', [name], { timeout: LOCK_CALL_TIMEOUT_MS })) && !this.#attempts.get(name)
      if (acquired) this.#holders.set(name, holder)
      return acquired
    } finally {
      this.#attempts.delete(name)
    }
  }

  async unlock(name: string, leave = false): Promise<void> {
    // Leaving is told even when nothing is held: an attempt under way may take the lock.
    if (!this.#holders.delete(name) && !leave) return
    await this.#session.call('unlock', [name, leave], { timeout: LOCK_CALL_TIMEOUT_MS })
  }

  /** Ends the channel when the actor's task ends; calls still pending reject. */
  close(): void {
    this.#session.close(new ConnectionError('the actor holding these locks stopped'))
  }
}
