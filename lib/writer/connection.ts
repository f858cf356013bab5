// The writer's own client (max 1 connection): every batch goes on it, the pipelined ones back
// to back, and the server runs them in the order sent. Opened on first use and again after a
// failure. Without one, batches go one at a time on the store's pool.
import type { Report } from '../reports.js'
import type { Sql } from '../storage/database.js'

export class WriterConnection {
  readonly #shared: Sql
  readonly #open: (() => Sql) | null
  readonly #outcomeTimeout: number
  readonly #report: Report
  /** Null until first needed, or after its connection failed. */
  #connection: Sql | null = null

  constructor(shared: Sql, open: (() => Sql) | null, outcomeTimeout: number, report: Report) {
    this.#shared = shared
    this.#open = open
    this.#outcomeTimeout = outcomeTimeout
    this.#report = report
  }

  /** Whether batches can be pipelined: only on a connection of the writer's own. */
  get own(): boolean {
    return this.#open !== null
  }

  /** Where the next batch goes. */
  client(): Sql {
    if (!this.#open) return this.#shared
    this.#connection ??= this.#open()
    return this.#connection
  }

  /**
   * Ends the writer's client; the next batch opens a new one. `now`: queries still running
   * on it fail at once (a batch that outlived its bound).
   */
  async close(now = false): Promise<void> {
    const connection = this.#connection
    this.#connection = null
    if (!connection) return
    await connection.end({ timeout: now ? 0 : 5 }).catch((error: unknown) => this.#report('warning', 'writer', 'closing the writer connection failed', error))
  }

  /** A batch that outlives outcomeTimeout has its connection closed under it: it fails, and is settled as lost. */
  bounded<T>(work: Promise<T>): Promise<T> {
    if (!this.#open) return work
    const timer = setTimeout(() => {
      this.#report('warning', 'writer', `a batch took longer than ${this.#outcomeTimeout} ms; closing its connection`)
      void this.close(true)
    }, this.#outcomeTimeout)
    return work.finally(() => clearTimeout(timer))
  }
}
