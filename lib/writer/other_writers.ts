// Whether another store (another process of the fleet) writes to the same $all while this
// writer does. Every write returns where it found $all and where it left it; when a write
// finds it moved since this writer's last one, someone else wrote in between. Then the
// writer sends one batch at a time (batching.ts): a pipelined batch would wait for the $all
// row behind the other process's commit on its own and carry fewer appends to its commit.

export class OtherWriters {
  /** Where this writer's last write left $all; null when not known. */
  #leftAt: number | null = null
  /** The last write judged (one with a known write before it) found $all moved by someone else. */
  #seen = false

  get seen(): boolean {
    return this.#seen
  }

  /** A write committed, finding $all at `before` and leaving it at `after`. */
  wrote(before: number, after: number): void {
    if (this.#leftAt !== null) this.#seen = before !== this.#leftAt
    this.#leftAt = after
  }

  /** Where this writer left $all is not known (a deletion, a failed batch): the next write only sets the mark. */
  forget(): void {
    this.#leftAt = null
  }
}
