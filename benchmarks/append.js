// Append workloads: "append events, C concurrent writers" and "single-event appends, 100
// concurrent writers" (README.md, Workloads).
import { benchEvents, compare, repeatFor, timed } from './harness.js'

let next = 0
const newStream = (prefix) => `${prefix}-${process.pid}-${(next += 1)}`

export function appendWorkloads({ store, raw, seconds, runs }) {
  const concurrentAppends = (C) => ({
    name: `append events, ${C} concurrent writers`,
    unit: 'events/s',
    target: C === 1 ? '≥ 0.8×' : C === 20 ? '' : '≥ 0.9×',
    async run() {
      const round = (append) => (time) =>
        repeatFor(seconds, async () => {
          await Promise.all(Array.from({ length: C }, () => time(() => append(newStream('append'), benchEvents(100)))))
          return { events: C * 100, operations: C }
        })
      return compare(this.name, () => timed(round((s, e) => store.appendToStream(s, 0, e))), () => timed(round((s, e) => raw.append(s, 0, e))), { runs })
    },
  })
  const singleEventAppends = {
    name: 'single-event appends, 100 concurrent writers',
    unit: 'appends/s',
    target: '≥ 3×',
    async run() {
      const loop = (append) => (time) => {
        const deadline = performance.now() + seconds * 1000
        return Promise.all(
          Array.from({ length: 100 }, async () => {
            const stream = newStream('single')
            let version = 0
            while (performance.now() < deadline) {
              await time(() => append(stream, version, benchEvents(1)))
              version += 1
            }
            return version
          }),
        ).then((counts) => {
          const appends = counts.reduce((a, b) => a + b, 0)
          return { events: appends, operations: appends }
        })
      }
      return compare(this.name, () => timed(loop((s, v, e) => store.appendToStream(s, v, e))), () => timed(loop((s, v, e) => raw.append(s, v, e))), { runs })
    },
  }
  return [...[1, 10, 20, 50, 100].map(concurrentAppends), singleEventAppends]
}
