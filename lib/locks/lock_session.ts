// The one session on which a store holds its advisory locks: every subscription's, on any of
// its worker threads (through lib/locks/host.ts), and every projection's. PostgreSQL
// releases them when the session ends, which is how a standby elsewhere takes over from a
// holder that died. One per store, on the session url: behind a pooler each process then
// keeps two server sessions (this and LISTEN), whatever its threads and projections. If the
// connection drops, the locks are gone too: a heartbeat notices and tells each holder, which
// goes back to standby. The same heartbeat spreads work over the fleet: it asks holders to
// hand their items over when a store wanting them holds two fewer (lib/storage/fleet.ts).
import { withTimeout } from '../actors/timeout.js'
import type { Report } from '../reports.js'
import { type ConnectionTarget, openLockSession } from '../storage/connections.js'
import { closeDatabase, type Sql } from '../storage/database.js'
import { type FleetMember, itemsToHandOver, joinFleet, leaveItem, takeWithinShare } from '../storage/fleet.js'
import { releaseAdvisoryLock, sessionPid } from '../storage/lock_session.js'

const HEARTBEAT_MS = 1000
/**
 * Attempts (one per STANDBY_RETRY_MS, lib/locks/timing.ts) that found an item free but over
 * this store's share before it is taken anyway: a store under its share, and one that just
 * handed the item over and waits out its cooldown, get the first chance; no item stays
 * unheld for long.
 */
const PRESS_AFTER = 6
/** A hand-over not done by then (its holder was not running, or is stuck) is asked again. */
const HAND_OVER_EXPIRY_MS = 10_000

/** What a lock's holder is told. */
export interface LockHolder {
  /** The session holding the lock was lost: the lock is gone. */
  lost: () => void
  /** A store holding fewer wants the item: finish what is in flight and unlock it. */
  handOver: () => void
}

/** Takes and releases named advisory locks within this store's share of the fleet's work. */
export interface Locks {
  tryLock(name: string, holder: LockHolder): Promise<boolean>
  /** `leave`: the store no longer wants the item at all (its holder stops). */
  unlock(name: string, leave?: boolean): Promise<void>
}

export class LockSession implements Locks {
  readonly #target: ConnectionTarget
  readonly #member: FleetMember
  #session: Sql | null = null
  readonly #holders = new Map<string, LockHolder>()
  /** Per item: attempts in a row that found it free but over this store's share. */
  readonly #declined = new Map<string, number>()
  /** Attempts under way; unlock() marks those of its name withdrawn, so what they take is let go at once. */
  readonly #attempts = new Set<{ name: string; withdrawn: boolean; leave: boolean }>()
  /** Items asked to hand over and not unlocked yet, with when: no more are asked until they are. */
  readonly #handingOver = new Map<string, number>()
  /** Items this session marked as wanted (fleet_join.sql): left when their holder stops. */
  readonly #wanted = new Set<string>()
  #heartbeat: NodeJS.Timeout | null = null
  /** Backend pid of the session holding the locks. */
  #pid = 0

  readonly #report: Report

  constructor(target: ConnectionTarget, member: FleetMember, report: Report) {
    this.#target = target
    this.#member = member
    this.#report = report
  }

  /**
   * Tries to take the lock `name` within this store's share of the fleet's work. A lock
   * already held answers true at once (an attempt given up on by its caller may have taken
   * it): advisory locks count per session, so taking it twice would need two releases.
   */
  async tryLock(name: string, holder: LockHolder): Promise<boolean> {
    if (this.#holders.has(name)) {
      this.#holders.set(name, holder)
      return true
    }
    const attempt = { name, withdrawn: false, leave: false }
    this.#attempts.add(attempt)
    try {
      for (;;) {
        const session = this.#connect()
        await joinFleet(session, this.#member, name)
        this.#wanted.add(name)
        const { acquired, pid } = await takeWithinShare(session, this.#member, name, (this.#declined.get(name) ?? 0) >= PRESS_AFTER)
        // The session was lost meanwhile: what it took is gone with it.
        if (this.#session !== session) return false
        if (attempt.withdrawn) {
          // Its holder stopped while the attempt was under way: nobody would ever unlock it.
          await this.#release(name, acquired === true, attempt.leave)
          return false
        }
        if (acquired === null) this.#declined.set(name, (this.#declined.get(name) ?? 0) + 1)
        else this.#declined.delete(name)
        if (!acquired) return false
        if (this.#holders.size === 0) this.#pid = pid
        else if (pid !== this.#pid) {
          // The session was replaced since the other locks were taken: they are gone, and so
          // is this one once the check ends the session; try again on a new one.
          await this.#check()
          continue
        }
        this.#holders.set(name, holder)
        this.#heartbeat ??= setInterval(() => void this.#check(), HEARTBEAT_MS)
        return true
      }
    } finally {
      this.#attempts.delete(attempt)
    }
  }

  async unlock(name: string, leave = false): Promise<void> {
    const held = this.#holders.delete(name)
    for (const attempt of this.#attempts) {
      if (attempt.name !== name) continue
      attempt.withdrawn = true
      attempt.leave ||= leave
    }
    this.#handingOver.delete(name)
    this.#declined.delete(name)
    if (this.#holders.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat)
      this.#heartbeat = null
    }
    await this.#release(name, held, leave)
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
    this.#wanted.clear()
    const session = this.#session
    this.#session = null
    if (session) await closeDatabase(session, seconds)
  }

  async #release(name: string, held: boolean, wantedLeave: boolean): Promise<void> {
    const leave = wantedLeave && this.#wanted.delete(name)
    if (!held && !leave) return
    const session = this.#connect()
    const release = async () => {
      if (held) await releaseAdvisoryLock(session, name)
      if (leave) await leaveItem(session, this.#member, name)
    }
    // Not answered in time, the session is ended: PostgreSQL then releases its locks anyway.
    await withTimeout(release(), HEARTBEAT_MS, () => new Error('no answer within 1 s')).catch((error: unknown) => {
      this.#report('warning', 'lock', `releasing the lock of ${name} failed; ending its session instead`, error)
      this.#lose()
    })
  }

  #connect(): Sql {
    this.#session ??= openLockSession(this.#target)
    return this.#session
  }

  async #check(): Promise<void> {
    let session: Sql
    try {
      // postgres.js quietly reconnects a reserved connection, so a successful query is not
      // enough: the session must still be the one that took the locks.
      // A query on a reserved connection whose server session died can wait forever.
      session = this.#connect()
      const pid = await withTimeout(sessionPid(session), HEARTBEAT_MS, () => new Error('no answer'))
      if (pid !== this.#pid) throw new Error('the lock session was replaced')
    } catch (error) {
      const lost = this.#holders.size
      this.#report('warning', 'lock', `the session holding ${lost} lock(s) was lost; their holders go back to standby`, error)
      this.#lose()
      return
    }
    await this.#balance(session)
  }

  /** Asks holders to hand their items over when the fleet says so. */
  async #balance(session: Sql): Promise<void> {
    const now = Date.now()
    for (const [name, askedAt] of this.#handingOver) if (now - askedAt > HAND_OVER_EXPIRY_MS) this.#handingOver.delete(name)
    if (this.#handingOver.size > 0 || this.#holders.size === 0) return
    // Not reported: the next heartbeat asks again a second later, and a lost session is
    // reported by the check that precedes this one.
    const names = await withTimeout(itemsToHandOver(session, this.#member, [...this.#holders.keys()]), HEARTBEAT_MS, () => new Error('no answer')).catch(() => [])
    if (this.#handingOver.size > 0) return
    for (const name of names) {
      const holder = this.#holders.get(name)
      if (!holder) continue
      this.#handingOver.set(name, Date.now())
      holder.handOver()
    }
  }

  /** Ends the session and tells every holder; the next lock opens a new one. */
  #lose(): void {
    const lost = [...this.#holders.values()]
    this.#holders.clear()
    this.#handingOver.clear()
    this.#wanted.clear()
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    const session = this.#session
    this.#session = null
    if (session) closeDatabase(session, 1).catch((error: unknown) => this.#report('warning', 'lock', 'ending the lock session failed', error))
    for (const holder of lost) holder.lost()
  }
}
