// The one session on which a store holds its advisory locks: every subscription's, on any of
// its worker threads (through lib/locks/shared.ts), and every projection's. PostgreSQL
// releases them when the session ends, which is how a standby elsewhere takes over from a
// holder that died. One per store, on the session url: behind a pooler each process then
// keeps two server sessions (this and LISTEN), whatever its threads and projections. If the
// connection drops, the locks are gone too: a heartbeat notices and tells each holder, which
// goes back to standby.
import { withTimeout } from '../actors/timeout.js'
import type { Report } from '../reports.js'
import { type ConnectionTarget, openLockSession } from '../storage/connections.js'
import { closeDatabase, type Sql } from '../storage/database.js'
import { releaseAdvisoryLock, sessionPid, tryAdvisoryLock } from '../storage/lock_session.js'

const HEARTBEAT_MS = 1000

/** Takes and releases named advisory locks; `onLost` runs if the session holding one is lost. */
export interface Locks {
  tryLock(name: string, onLost: () => void): Promise<boolean>
  unlock(name: string): Promise<void>
}

export class LockSession implements Locks {
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

  /**
   * Tries to take the lock `name`; `onLost` runs if the session holding it is lost. A lock
   * already held answers true at once (an attempt given up on by its caller may have taken
   * it): advisory locks count per session, so taking it twice would need two releases.
   */
  async tryLock(name: string, onLost: () => void): Promise<boolean> {
    if (this.#holders.has(name)) {
      this.#holders.set(name, onLost)
      return true
    }
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
      this.#lose()
    })
  }

  /** Whether the session is open now: 0 or 1, for the store's connection count. */
  get open(): number {
    return this.#session === null ? 0 : 1
  }

  /** Ends the session (PostgreSQL releases what it still holds); `seconds` as closeDatabase. */
  async close(seconds?: number): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    this.#holders.clear()
    const session = this.#session
    this.#session = null
    if (session) await closeDatabase(session, seconds)
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
      const lost = this.#holders.size
      this.#report('warning', 'lock', `the session holding ${lost} lock(s) was lost; their holders go back to standby`, error)
      this.#lose()
    }
  }

  /** Ends the session and tells every holder; the next lock opens a new one. */
  #lose(): void {
    const lost = [...this.#holders.values()]
    this.#holders.clear()
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    const session = this.#session
    this.#session = null
    if (session) closeDatabase(session, 1).catch((error: unknown) => this.#report('warning', 'lock', 'ending the lock session failed', error))
    for (const onLost of lost) onLost()
  }
}
