// One process of the fleet benchmark (fleet.js): W writers appending E events at a time to
// brand-new streams (expected version 0), through a store or the raw baseline's statement.
// Talks to fleet.js over IPC: 'ready' once connected, then 'go' starts the writers for the
// given seconds, 'done' reports the counts and latencies, 'stop' ends the process.
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { rawAppend } from './baseline.js'
import { benchEvents } from './harness.js'

const [mode, url, schema, writersText, eventsText] = process.argv.slice(2)
const writers = Number(writersText)
const eventsPerAppend = Number(eventsText)

// Few reader threads and pool connections: only the writer works here, and a fleet of eight
// must fit under PostgreSQL's default max_connections.
const store = mode === 'store' ? await EventStore.start({ url, schema, workers: 1, poolSize: 2 }) : null
const raw = mode === 'raw' ? postgres(url, { max: writers, onnotice: () => {}, connection: { search_path: schema } }) : null
const append = store ? (stream, events) => store.appendToStream(stream, 0, events) : (stream, events) => rawAppend(raw, stream, 0, events)

let streams = 0
async function writeFor(seconds) {
  const latencies = []
  const deadline = performance.now() + seconds * 1000
  let appends = 0
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const events = benchEvents(eventsPerAppend)
        const started = performance.now()
        await append(`fleet-${process.pid}-${(streams += 1)}`, events)
        latencies.push(performance.now() - started)
        appends += 1
      }
    }),
  )
  return { appends, events: appends * eventsPerAppend, latencies }
}

process.on('message', async (message) => {
  if (message.type === 'go') process.send({ type: 'done', ...(await writeFor(message.seconds)) })
  if (message.type === 'stop') {
    await store?.stop()
    await raw?.end()
    process.disconnect()
  }
})
process.send({ type: 'ready' })
