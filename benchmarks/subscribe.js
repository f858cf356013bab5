// Subscription workloads: "subscribe to stream, C subscriptions" (defaults, and bufferSize 100
// with checkpointThreshold 100) and "append to subscriber latency" (README.md, Workloads).
import { randomUUID } from 'node:crypto'
import { benchEvent, benchEvents, compare, repeatFor, timed } from './harness.js'

let next = 0

export function subscribeWorkloads({ store, raw, seconds, runs }) {
  const subscriptions = (C, options, label) => ({
    name: `subscribe to stream, ${C} subscriptions${label}`,
    unit: 'events/s',
    target: C === 1 ? (label ? '≥ 100,000 events/s' : '≥ 4,000 events/s') : '',
    async run() {
      /** One round: C subscriptions to a new stream, then 100 events appended; timed from append to last ack. */
      const once = async () => {
        const stream = `subscribe-${process.pid}-${(next += 1)}`
        let delivered = 0
        let done
        const finished = new Promise((resolve) => {
          done = resolve
        })
        const ready = []
        for (let i = 0; i < C; i += 1) {
          let live
          ready.push(new Promise((resolve) => {
            live = resolve
          }))
          await store.subscribeToStream(stream, `sub-${i}`, (message) => {
            if (message.type === 'subscribed') return live()
            delivered += message.events.length
            message.subscription.ack(message.events)
            if (delivered === C * 100) done()
          }, options)
        }
        await Promise.all(ready)
        const started = performance.now()
        await store.appendToStream(stream, 0, benchEvents(100))
        const appended = performance.now()
        await finished
        const elapsed = performance.now() - started
        afterAppend += performance.now() - appended
        for (let i = 0; i < C; i += 1) {
          await store.unsubscribeFromStream(stream, `sub-${i}`)
          await store.deleteSubscription(stream, `sub-${i}`)
        }
        return elapsed
      }
      let afterAppend = 0
      const storeRun = async () => {
        let busy = 0
        afterAppend = 0
        const { events } = await repeatFor(seconds, async () => {
          busy += await once()
          return { events: C * 100, operations: C }
        })
        // The timed round includes appending the 100 events; the note shows delivery alone,
        // from the append returning to the last ack (delivery may start a little earlier).
        const delivery = `${Math.round(events / (afterAppend / 1000)).toLocaleString('en')} events/s after the append returned`
        return { events, operations: events, seconds: busy / 1000, latencies: [], extra: { delivery } }
      }
      // Baseline: what a poller does for the same delivery, C readers each SELECTing the 100 events.
      await raw.append(`subscribe-raw-${C}${label}`, 0, benchEvents(100)).catch(() => {})
      const baselineRun = () =>
        timed(() => repeatFor(seconds, async () => {
          await Promise.all(Array.from({ length: C }, () => raw.read(`subscribe-raw-${C}${label}`)))
          return { events: C * 100, operations: C }
        }))
      return compare(this.name, storeRun, baselineRun, { runs })
    },
  })

  const latency = {
    name: 'append to subscriber latency, 10 writers',
    unit: 'events/s',
    target: 'p50 ≤ 5 ms, p99 ≤ 25 ms',
    async run() {
      const resolvedAt = new Map()
      const receivedAt = new Map()
      const stop = await store.subscribe('$all', (event) => {
        receivedAt.set(event.eventId, performance.now())
      })
      // Baseline: a raw NOTIFY per committed insert, heard on a LISTEN connection.
      const heard = new Map()
      const listening = await raw.sql.listen('bench_latency', (payload) => heard.set(payload, performance.now()))
      const storeRun = async () => {
        resolvedAt.clear()
        receivedAt.clear()
        const started = performance.now()
        const deadline = started + seconds * 1000
        await Promise.all(Array.from({ length: 10 }, async (_, w) => {
          const stream = `latency-${process.pid}-${(next += 1)}-${w}`
          for (let v = 0; performance.now() < deadline; v += 1) {
            const event = { ...benchEvent(v), eventId: crypto.randomUUID() }
            await store.appendToStream(stream, v, [event])
            resolvedAt.set(event.eventId, performance.now())
          }
        }))
        const wait = performance.now() + 5000
        while (receivedAt.size < resolvedAt.size && performance.now() < wait) await new Promise((resolve) => setTimeout(resolve, 10))
        const latencies = [...resolvedAt].map(([id, at]) => Math.max(0, (receivedAt.get(id) ?? Number.POSITIVE_INFINITY) - at))
        return { events: resolvedAt.size, operations: resolvedAt.size, seconds: (performance.now() - started) / 1000, latencies }
      }
      const baselineRun = async () => {
        heard.clear()
        const sent = new Map()
        const started = performance.now()
        const deadline = started + seconds * 1000
        await Promise.all(Array.from({ length: 10 }, async (_, w) => {
          for (let v = 0; performance.now() < deadline; v += 1) {
            const id = `${w}-${v}-${(next += 1)}`
            await raw.sql.begin((tx) => [tx`INSERT INTO events (stream_id, version, event_id, event_type, data, metadata) VALUES (${id}, 1, ${randomUUID()}, 'E', '{}', '{}')`, tx`SELECT pg_notify('bench_latency', ${id})`])
            sent.set(id, performance.now())
          }
        }))
        const wait = performance.now() + 5000
        while (heard.size < sent.size && performance.now() < wait) await new Promise((resolve) => setTimeout(resolve, 10))
        const latencies = [...sent].map(([id, at]) => Math.max(0, (heard.get(id) ?? Number.POSITIVE_INFINITY) - at))
        return { events: sent.size, operations: sent.size, seconds: (performance.now() - started) / 1000, latencies }
      }
      try {
        return await compare(this.name, storeRun, baselineRun, { runs })
      } finally {
        await stop()
        await listening.unlisten()
      }
    },
  }

  const buffered = { bufferSize: 100, checkpointThreshold: 100 }
  return [
    ...[1, 10, 20, 50].map((C) => subscriptions(C, {}, '')),
    ...[1, 10, 20, 50].map((C) => subscriptions(C, buffered, ', bufferSize 100, checkpointThreshold 100')),
    latency,
  ]
}
