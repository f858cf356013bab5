// When the writer's connection plans its statements again (lib/storage/plans.ts): whenever
// $all has doubled since they were planned. A plan chosen for a table of N rows costs at most
// about twice as much at 2N (a scan that was cheaper than an index lookup grows linearly), so
// plans stay fit for the tables however fast they grow, at a few dozen re-plans over a store's
// life.

/** Below this many events, tables are small whatever the plan. */
const FIRST_REPLAN_AT = 1_000

export class Replanning {
  /** The $all position at which plans are made again; null for a new connection. */
  #at: number | null = null

  /** A write left $all at `position`: whether the connection's plans should be made again now. */
  due(position: number): boolean {
    if (this.#at === null) {
      // A new connection plans for the tables as they are now.
      this.#at = Math.max(2 * position, FIRST_REPLAN_AT)
      return false
    }
    if (position < this.#at) return false
    this.#at = 2 * position
    return true
  }

  /** The connection was replaced: its plans are new. */
  reset(): void {
    this.#at = null
  }
}
