// The writer's own client (max 1 connection): every batch goes on it, the pipelined ones back
// to back, and the server runs them in the order sent. Opened on first use and again after a
// failure. Without one, batches go one at a time on the store's pool. Its statements keep
// PostgreSQL's cached plans, made again as the store grows (replanning.ts).
import type { Report } from '../reports.js'
import type { Sql } from '../storage/database.js'
import { discardPlans } from '../storage/plans.js'
import { Replanning } from './replanning.js'

export class WriterConnection {
  readonly #shared: Sql
  readonly #open: (() => Sql) | null
  readonly #outcomeTimeout: number
  readonly #report: Report
  /** Null until first needed, or after its connection failed. */
  #connection: Sql | null = null
  readonly #replanning = new Replanning()

  /** The connection's statements are prepared and go straight to the server, so it caches plans. */
  readonly #cachesPlans: boolean

  constructor(shared: Sql, open: (() => Sql) | null, outcomeTimeout: number, report: Report, cachesPlans: boolean) {
    this.#shared = shared
    this.#open = open
    this.#cachesPlans = cachesPlans
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
    if (!this.#connection) {
      this.#connection = this.#open()
      this.#replanning.reset()
    }
    return this.#connection
  }

  /**
   * A write left $all at `position` and wrote `links` links. Once the store has grown enough,
   * the connection's plans are dropped, behind whatever is in flight; the writer awaits that
   * (null: nothing to do) like a batch, so that nothing is left running on a connection it
   * closes, and it is bounded like a batch. After a failure the plans are kept until the
   * store has doubled again.
   */
  grew(position: number, links: number): Promise<void> | null {
    const connection = this.#connection
    if (!connection || !this.#cachesPlans || !this.#replanning.due(position, links)) return null
    return this.bounded(discardPlans(connection), 'dropping cached plans').catch((error: unknown) => this.#report('warning', 'writer', 'dropping the writer connection’s cached plans failed', error))
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

  /** A batch (or `what` else) that outlives outcomeTimeout has its connection closed under it: it fails, and a batch is settled as lost. */
  bounded<T>(work: Promise<T>, what = 'a batch'): Promise<T> {
    if (!this.#open) return work
    const timer = setTimeout(() => {
      this.#report('warning', 'writer', `${what} took longer than ${this.#outcomeTimeout} ms; closing its connection`)
      void this.close(true)
    }, this.#outcomeTimeout)
    return work.finally(() => clearTimeout(timer))
  }
}
