// An actor's mailbox: post from anywhere, receive one message at a time, in order.
export class Mailbox<M> {
  readonly #messages: M[] = []
  #waiting: ((message: M) => void) | null = null

  post(message: M): void {
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = null
      waiting(message)
    } else {
      this.#messages.push(message)
    }
  }

  receive(): Promise<M> {
    const next = this.#messages.shift()
    if (next !== undefined) return Promise.resolve(next)
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  get size(): number {
    return this.#messages.length
  }
}
