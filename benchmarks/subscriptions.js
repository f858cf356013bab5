// Subscription delivery throughput and append → subscriber latency (shared/BENCHMARKS.md:
// "subscribe to stream" and "append to subscriber latency"; the full suite is issue 4).
// Usage: npm run build && node benchmarks/subscriptions.js   (DATABASE_URL or the embedded server)
import { randomUUID } from 'node:crypto'
import { EventStore } from '../dist/lib/index.js'

const config = { url: process.env.DATABASE_URL, schema: 'bench_subscriptions', workers: 2 }
const payload = 'x'.repeat(150)
const event = (n) => ({
  eventType: 'Elixir.EventStore.Bench.SomethingHappened',
  data: { event: n, payload },
  metadata: { user: 'user@example.com' },
  correlationId: randomUUID(),
  causationId: randomUUID(),
})
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

await EventStore.drop(config)
await EventStore.init(config)
const store = await EventStore.start(config)
const results = []

// Delivery: one subscriber catches up on SEEDED events, acking each batch.
const SEEDED = 20_000
for (let i = 0; i < SEEDED / 100; i += 1) await store.appendToStream(`seed-${i}`, 0, Array.from({ length: 100 }, (_, n) => event(n)))
for (const [label, options] of [
  ['defaults (bufferSize 1, checkpointThreshold 1)', {}],
  ['bufferSize 100, checkpointThreshold 100', { bufferSize: 100, checkpointThreshold: 100 }],
]) {
  const name = `delivery-${results.length}`
  let received = 0
  let done
  const finished = new Promise((resolve) => {
    done = resolve
  })
  const started = performance.now()
  await store.subscribeToAllStreams(name, (message) => {
    if (message.type !== 'events') return
    received += message.events.length
    message.subscription.ack(message.events)
    if (received >= SEEDED) done()
  }, options)
  await finished
  const seconds = (performance.now() - started) / 1000
  await store.unsubscribeFromAllStreams(name)
  results.push(`delivery, ${label}: ${Math.round(SEEDED / seconds)} events/s (${SEEDED} events in ${seconds.toFixed(2)} s)`)
}

// Latency: a live subscription while 10 writers append one event at a time. Measured from
// appendToStream resolving to the subscriber receiving the event (0 when it came first).
const resolvedAt = new Map()
const receivedAt = new Map()
await store.subscribe('$all', (e) => {
  receivedAt.set(e.eventId, performance.now())
})
await Promise.all(Array.from({ length: 10 }, async (_, writer) => {
  for (let i = 0; i < 200; i += 1) {
    const e = { ...event(i), eventId: randomUUID() }
    await store.appendToStream(`latency-${writer}`, i, [e])
    resolvedAt.set(e.eventId, performance.now())
  }
}))
const deadline = Date.now() + 10_000
while (receivedAt.size < resolvedAt.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
const latencies = [...resolvedAt].map(([id, at]) => Math.max(0, (receivedAt.get(id) ?? Number.POSITIVE_INFINITY) - at)).sort((a, b) => a - b)
results.push(`append → subscriber latency, 10 writers: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${receivedAt.size} of ${resolvedAt.size} received)`)

await store.stop()
await EventStore.drop(config)
for (const line of results) console.log(line)
