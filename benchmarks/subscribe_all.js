// "subscribe to $all, C subscriptions, 10 writers" (README.md, Workloads): several $all
// subscriptions in one store, so each committed batch goes to several actors at once.
import { benchEvents, compare, repeatFor, timed } from './harness.js'

const WRITERS = 10
const EVENTS = 100
// The actor takes a handed-off batch only when it fits beside what it still holds: room for
// the two pipelined batches of a round, so none of them is read back instead.
const options = { startFrom: 'current', bufferSize: 100, checkpointThreshold: 100, maxSize: 2 * WRITERS * EVENTS }

let next = 0

export function subscribeAllWorkloads({ store, raw, seconds, runs }) {
  return [4, 8].map((C) => ({
    name: `subscribe to $all, ${C} subscriptions, ${WRITERS} writers`,
    unit: 'events/s',
    target: '',
    async run() {
      const perRound = WRITERS * EVENTS
      const names = Array.from({ length: C }, (_, i) => `all-${process.pid}-${C}-${i}`)
      let delivered = 0
      let expected = 0
      let roundDone = () => {}
      const ready = names.map(
        (name) =>
          new Promise((resolve, reject) => {
            store
              .subscribeToAllStreams(
                name,
                (message) => {
                  if (message.type === 'subscribed') return resolve()
                  delivered += message.events.length
                  message.subscription.ack(message.events)
                  if (delivered >= expected) roundDone()
                },
                options,
              )
              .catch(reject)
          }),
      )
      await Promise.all(ready)
      /** One round: each writer appends 100 events to a new stream; timed from the appends to the last ack. */
      const storeRound = async () => {
        expected += C * perRound
        const finished = new Promise((resolve) => {
          roundDone = resolve
        })
        await Promise.all(Array.from({ length: WRITERS }, () => store.appendToStream(`all-${process.pid}-${(next += 1)}`, 0, benchEvents(EVENTS))))
        await finished
        return { events: C * perRound, operations: C * WRITERS }
      }
      // Baseline: the same appends, then C pollers each SELECTing the new events of $all.
      const [{ last }] = await raw.sql`SELECT coalesce(max(global_position), 0)::int AS last FROM events`
      let cursor = last
      const baselineRound = async () => {
        await Promise.all(Array.from({ length: WRITERS }, () => raw.append(`all-raw-${process.pid}-${(next += 1)}`, 0, benchEvents(EVENTS))))
        const pages = await Promise.all(names.map(() => raw.sql`SELECT * FROM events WHERE global_position > ${cursor} ORDER BY global_position LIMIT ${perRound}`))
        if (pages.some((page) => page.length !== perRound)) throw new Error(`a poller did not read ${perRound} events`)
        cursor = pages[0].at(-1).global_position
        return { events: C * perRound, operations: C * WRITERS }
      }
      try {
        return await compare(this.name, () => timed(() => repeatFor(seconds, storeRound)), () => timed(() => repeatFor(seconds, baselineRound)), { runs })
      } finally {
        for (const name of names) {
          await store.unsubscribeFromAllStreams(name)
          await store.deleteSubscription('$all', name)
        }
      }
    },
  }))
}
