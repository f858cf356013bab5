// A FIFO queue with O(1) push and shift (Array#shift moves every element) and indexed
// access from the head, for actor mailboxes that may hold thousands of messages.
export class Deque<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  /** The item `index` places from the head. */
  at(index: number): T | undefined {
    return this.#items[this.#head + index]
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head += 1
    // Drop the consumed prefix once it is most of the array: amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Puts items back at the head, in their order (a retry); O(length) but rare. */
  unshiftAll(items: readonly T[]): void {
    this.#items = [...items, ...this.#items.slice(this.#head)]
    this.#head = 0
  }
}
