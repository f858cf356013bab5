// Waiting on something a callback records (a listener, a channel, a handler) without sleeping:
// whoever records calls `notify()`; `until(check)` resolves as soon as check() holds and
// fails the test when it has not held within `within` ms.
export class Changes {
  readonly #waiters = new Set<() => void>()

  readonly notify = (): void => {
    for (const wake of [...this.#waiters]) wake()
  }

  async until(check: () => boolean, { within = 5000, what = 'the awaited change' } = {}): Promise<void> {
    if (check()) return
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
      }
      const wake = () => {
        if (!check()) return
        done()
        resolve()
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${what}: not within ${within} ms`))
      }, within)
      this.#waiters.add(wake)
    })
  }
}

/** A list a callback appends to, awaited with `until`. */
export class Recorded<T> extends Changes {
  readonly items: T[] = []

  readonly push = (...items: T[]): void => {
    this.items.push(...items)
    this.notify()
  }
}
