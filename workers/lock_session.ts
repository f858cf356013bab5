// The session on which a worker thread holds its subscriptions' advisory locks.
// PostgreSQL releases them when the session ends, which is how a standby elsewhere takes
// over from a holder that died. If this connection drops, the locks are gone too: a
// heartbeat notices and tells each holder, which goes back to standby.
import { withTimeout } from '../lib/actors/timeout.js'
import type { Report } from '../lib/reports.js'
import { type ConnectionTarget, openLockSession } from '../lib/storage/connections.js'
import { closeDatabase, type Sql } from '../lib/storage/database.js'
import { releaseAdvisoryLock, sessionPid, tryAdvisoryLock } from '../lib/storage/lock_session.js'

const HEARTBEAT_MS = 1000

export class LockSession {
  readonly #target: ConnectionTarget
  #session: Sql | null = null
  readonly #holders = new Map<string, () => void>()
  #heartbeat: NodeJS.Timeout | null = null
  /** Backend pid of the session holding the locks. */
  #pid = 0

  readonly #report: Report

  constructor(target: ConnectionTarget, report: Report) {
    this.#target = target
    this.#report = report
  }

  /** Tries to take the lock `name`; `onLost` runs if the session holding it is lost. */
  async tryLock(name: string, onLost: () => void): Promise<boolean> {
    const session = this.#connect()
    const pid = await tryAdvisoryLock(session, name)
    if (pid === null) return false
    if (this.#holders.size === 0) this.#pid = pid
    else if (pid !== this.#pid) {
      // The session was replaced since the other locks were taken: they are gone.
      await this.#check()
      return this.tryLock(name, onLost)
    }
    this.#holders.set(name, onLost)
    this.#heartbeat ??= setInterval(() => void this.#check(), HEARTBEAT_MS)
    return true
  }

  async unlock(name: string): Promise<void> {
    if (!this.#holders.delete(name)) return
    if (this.#holders.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat)
      this.#heartbeat = null
    }
    const session = this.#connect()
    // Not answered in time, the session is ended: PostgreSQL then releases its locks anyway.
    await withTimeout(releaseAdvisoryLock(session, name), HEARTBEAT_MS, () => new Error('no answer within 1 s')).catch((error: unknown) => {
      this.#report('warning', 'lock', `releasing the lock of ${name} failed; ending its session instead`, error)
      this.#drop()
    })
  }

  #connect(): Sql {
    this.#session ??= openLockSession(this.#target)
    return this.#session
  }

  async #check(): Promise<void> {
    try {
      // postgres.js quietly reconnects a reserved connection, so a successful query is not
      // enough: the session must still be the one that took the locks.
      // A query on a reserved connection whose server session died can wait forever.
      const session = this.#connect()
      const pid = await withTimeout(sessionPid(session), HEARTBEAT_MS, () => new Error('no answer'))
      if (pid !== this.#pid) throw new Error('the lock session was replaced')
    } catch (error) {
      const lost = [...this.#holders.values()]
      this.#holders.clear()
      this.#report('warning', 'lock', `the session holding ${lost.length} subscription lock(s) was lost; they go back to standby`, error)
      this.#drop()
      if (this.#heartbeat) clearInterval(this.#heartbeat)
      this.#heartbeat = null
      for (const onLost of lost) onLost()
    }
  }

  /** Ends the session (PostgreSQL releases its locks); the next lock opens a new one. */
  #drop(): void {
    const session = this.#session
    this.#session = null
    if (session) closeDatabase(session, 1).catch((error: unknown) => this.#report('warning', 'lock', 'ending the lock session failed', error))
  }
}

