// A counter for long commands, redrawn in place on a terminal at most ten times a second;
// silent when the output is not a terminal (logs and pipes get no control characters).
import type { Output } from './output.js'

const REDRAW_MS = 100
const BAR_WIDTH = 30

export class Progress {
  readonly #to: Output | null
  readonly #label: string
  readonly #total: number
  #done = 0
  #drawnAt = 0

  /** `to` null: quiet. `total` 0: a plain counter, no bar. */
  constructor(to: Output | null, label: string, total: number) {
    this.#to = to?.isTTY ? to : null
    this.#label = label
    this.#total = total
  }

  advance(count: number): void {
    this.#done += count
    if (this.#to && Date.now() - this.#drawnAt >= REDRAW_MS) this.#draw()
  }

  done(): void {
    if (!this.#to) return
    this.#draw()
    this.#to.write('\n')
  }

  #draw(): void {
    this.#drawnAt = Date.now()
    const total = Math.max(this.#total, this.#done)
    const bar = total > 0 ? `[${'#'.repeat(Math.round((BAR_WIDTH * this.#done) / total)).padEnd(BAR_WIDTH, '.')}] ` : ''
    this.#to?.write(`\r${bar}${this.#done}${total > 0 ? `/${total}` : ''} ${this.#label}`)
  }
}
