// When the writer's connection plans its statements again (lib/storage/plans.ts): whenever
// the store has doubled since they were planned, counted as $all's position plus the links
// this writer wrote (links grow the tables without moving $all). A plan chosen for a table
// of N rows costs at most about twice as much at 2N (a scan that was cheaper than an index
// lookup grows linearly), so plans stay fit for the tables however fast they grow, at a few
// dozen re-plans over a store's life.

/** Below this many rows, tables are small whatever the plan. */
const FIRST_REPLAN_AT = 1_000

export class Replanning {
  /** The size at which plans are made again; null for a new connection. */
  #at: number | null = null
  /** Links written since start; a new connection does not change them. */
  #links = 0

  /** A write left $all at `position` and wrote `links` links: whether the connection's plans should be made again now. */
  due(position: number, links = 0): boolean {
    this.#links += links
    const size = position + this.#links
    if (this.#at === null) {
      // A new connection plans for the tables as they are now.
      this.#at = Math.max(2 * size, FIRST_REPLAN_AT)
      return false
    }
    if (size < this.#at) return false
    this.#at = 2 * size
    return true
  }

  /** The connection was replaced: its plans are new. */
  reset(): void {
    this.#at = null
  }
}
