// Read workloads: "read events, C concurrent readers" (benchmarks/README.md, Workloads). `read $all`
// runs in growth.js, on the store it seeds.
import { benchEvents, compare, repeatFor, timed } from './harness.js'

export function readWorkloads({ store, raw, seconds, runs }) {
  let prepared = null
  const prepare = async () => {
    prepared ??= (async () => {
      const events = benchEvents(100)
      await store.appendToStream('read-bench', 'any_version', events)
      await raw.append('read-bench', 0, events)
    })()
    return prepared
  }
  return [1, 10, 20, 50, 100].map((C) => ({
    name: `read events, ${C} concurrent readers`,
    unit: 'events/s',
    target: [1, 10, 100].includes(C) ? '≥ 0.8×' : '',
    async run() {
      await prepare()
      const round = (read) => (time) =>
        repeatFor(seconds, async () => {
          const pages = await Promise.all(Array.from({ length: C }, () => time(() => read('read-bench'))))
          if (pages.some((page) => page.length !== 100)) throw new Error('a reader did not read 100 events')
          return { events: C * 100, operations: C }
        })
      return compare(this.name, () => timed(round((s) => store.readStreamForward(s))), () => timed(round((s) => raw.read(s))), { runs })
    },
  }))
}
