// An actor's mailbox: messages posted from anywhere, taken one at a time in order. Taking is
// O(1) (Array#shift moves every element), as a mailbox may hold thousands of messages; an
// actor that batches reads ahead of the head with `at`.
export class Mailbox<M> {
  #items: (M | undefined)[] = []
  #head = 0
  #waiting: ((message: M) => void) | null = null

  /** Messages held. */
  get length(): number {
    return this.#items.length - this.#head
  }

  /** Hands the message to a waiting `receive`, or queues it. */
  post(message: M): void {
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = null
      waiting(message)
    } else {
      this.#items.push(message)
    }
  }

  /** The next message, once there is one. One receiver at a time. */
  receive(): Promise<M> {
    if (this.length > 0) return Promise.resolve(this.shift() as M)
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  /** The message `index` places from the head. */
  at(index: number): M | undefined {
    return this.#items[this.#head + index]
  }

  /** Takes the message at the head. */
  shift(): M | undefined {
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

  /** Puts messages back at the head, in their order (a retry); O(length) but rare. */
  unshiftAll(messages: readonly M[]): void {
    this.#items = [...messages, ...this.#items.slice(this.#head)]
    this.#head = 0
  }
}
