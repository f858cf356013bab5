// The session connection on which a worker thread holds its subscriptions' advisory locks.
// PostgreSQL releases them when the session ends, which is how a standby elsewhere takes
// over from a holder that died. If this connection drops, the locks are gone too: a
// heartbeat notices and tells each holder, which goes back to standby.
import type postgres from 'postgres'
import type { Sql } from '../lib/storage/database.js'
import { statements } from '../lib/storage/statements.js'

const HEARTBEAT_MS = 1000

export class LockSession {
  readonly #sql: Sql
  #session: Promise<postgres.ReservedSql<Record<string, never>>> | null = null
  readonly #holders = new Map<string, () => void>()
  #heartbeat: NodeJS.Timeout | null = null

  constructor(sql: Sql) {
    this.#sql = sql
  }

  /** Tries to take the lock `name`; `onLost` runs if the session holding it is lost. */
  async tryLock(name: string, onLost: () => void): Promise<boolean> {
    const session = await this.#connect()
    const [row] = await session.unsafe<{ acquired: boolean }[]>(statements.subscription_try_lock, [name])
    if (!row?.acquired) return false
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
    const session = await this.#connect()
    await session.unsafe(statements.subscription_unlock, [name]).catch(() => {})
  }

  #connect() {
    this.#session ??= this.#sql.reserve()
    return this.#session
  }

  async #check(): Promise<void> {
    try {
      const session = await this.#connect()
      await session`SELECT 1`
    } catch {
      const lost = [...this.#holders.values()]
      this.#holders.clear()
      this.#session = null
      if (this.#heartbeat) clearInterval(this.#heartbeat)
      this.#heartbeat = null
      for (const onLost of lost) onLost()
    }
  }
}
