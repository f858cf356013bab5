// Whether another store (another process of the fleet) writes to the same $all while this
// writer does. Every one-statement write returns where it found $all and where it left it;
// when a write finds it moved since this writer's last one, someone else wrote in between. Then the
// writer sends one batch at a time (batching.ts): a pipelined batch would wait for the $all
// row behind the other process's commit on its own and carry fewer appends to its commit.

export class OtherWriters {
  /** Where this writer's last expected write left $all; null when not known. */
  #leftAt: number | null = null
  /** The last write found $all moved by someone else. */
  #seen = false

  get seen(): boolean {
    return this.#seen
  }

  /** A write committed, leaving $all at `after`; the one-statement write also tells where it found it (`before`). */
  wrote(before: number | null, after: number): void {
    if (before !== null && this.#leftAt !== null) this.#seen = before !== this.#leftAt
    this.#leftAt = after
  }

  /** Where this writer left $all is not known (a deletion, a failed batch): the next write only sets the mark. */
  forget(): void {
    this.#leftAt = null
  }
}
