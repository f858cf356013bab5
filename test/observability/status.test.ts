// store.status(): the writer, the workers, and every subscription of the schema with its
// state, checkpoint, head, lag and holder, whether this process or another runs it.
import t from 'tap'
import { hostname } from 'node:os'
import { EventStore } from '../../lib/event_store.js'
import type { SubscriptionStatus } from '../../lib/observability/status.js'
import { freshStoreConfig, startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { eventually } from '../helpers/eventually.js'
import { Inbox } from '../helpers/inbox.js'
import { spawnScript } from '../helpers/processes.js'

async function subscriptionNamed(store: EventStore, name: string): Promise<SubscriptionStatus> {
  const found = (await store.status()).subscriptions.find((s) => s.name === name)
  if (!found) throw new Error(`no subscription ${name} in status`)
  return found
}

t.test('the writer and worker figures', async (t) => {
  const store = await startStore(t)
  const before = await store.status()
  t.match(before.writer, { queued: 0, batches: 0, lastCommitAt: null })
  t.same(before.subscriptions, [])
  await store.appendToStream('s', 0, makeEvents(2))
  const after = await store.status()
  t.equal(after.writer.batches, 1)
  t.ok(after.writer.lastCommitAt instanceof Date)
  t.equal(after.workers.threads, 1, 'the test store runs one worker thread')
  t.ok(after.workers.utilization >= 0 && after.workers.utilization <= 1)
})

t.test('a slow subscription here: its lag rises while it holds events unacked and falls to 0 when it acks', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('a', 0, makeEvents(5))
  const inbox = new Inbox()
  await store.subscribeToAllStreams('slow', inbox.subscriber, { bufferSize: 5 })
  await inbox.receive('subscribed')
  const events = await inbox.receiveEvents(5)
  const lagging = await eventually(() => subscriptionNamed(store, 'slow'), (s) => s.head === 5)
  t.match(lagging, { name: 'slow', streamId: '$all', checkpoint: 0, head: 5, lag: { events: 5 }, holder: { host: hostname(), pid: process.pid }, subscribers: 1, local: true })
  t.ok(lagging.lag.seconds >= 0 && lagging.lag.seconds < 60, `lag in seconds ${lagging.lag.seconds}`)
  await new Promise((resolve) => setTimeout(resolve, 300)) // what is measured here is time passing
  t.ok((await subscriptionNamed(store, 'slow')).lag.seconds >= 0.25, 'its lag in seconds grows while nothing is acked')
  inbox.messages.at(-1)?.subscription.ack(events)
  const caughtUp = await eventually(() => subscriptionNamed(store, 'slow'), (s) => s.lag.events === 0 && s.state === 'live')
  t.match(caughtUp, { state: 'live', checkpoint: 5, lag: { events: 0, seconds: 0 } })
  const stored = await eventually(() => subscriptionNamed(store, 'slow'), (s) => s.checkpointAge !== null)
  t.ok(stored.checkpointAge !== null && stored.checkpointAge >= 0, 'the checkpoint age is known once one was stored')
  await store.unsubscribeFromAllStreams('slow')
  const stopped = await subscriptionNamed(store, 'slow')
  t.match(stopped, { state: 'stopped', holder: null, checkpoint: 5, subscribers: null, local: false }, 'once stopped, the database row remains')
})

t.test("another process's subscription shows with its holder; a standby here says standby", async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('s', 0, makeEvents(3))
  const other = spawnScript(t, 'fixtures/subscriber_process.ts', { URL: config.url, SCHEMA: config.schema, NAME: 'elsewhere' })
  await other.waitFor((line) => line === 'subscribed')
  const remote = await eventually(() => subscriptionNamed(store, 'elsewhere'), (s) => s.checkpoint === 3)
  t.match(remote, { streamId: '$all', state: 'live', checkpoint: 3, head: 3, holder: { host: hostname(), pid: other.process.pid }, subscribers: null, local: false })
  const standby = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('elsewhere', standby.subscriber)
  const waiting = await eventually(() => subscriptionNamed(store, 'elsewhere'), (s) => s.local)
  t.match(waiting, { state: 'standby', holder: { pid: other.process.pid }, subscribers: 1, local: true })
  other.process.kill('SIGKILL')
  await standby.receive('subscribed', { within: 5000 })
  const taken = await eventually(() => subscriptionNamed(store, 'elsewhere'), (s) => s.holder?.pid === process.pid && s.state === 'live')
  t.match(taken, { state: 'live', holder: { pid: process.pid } })
})

t.test('a stream subscription measures lag against its stream, links included', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('other', 0, makeEvents(4))
  await store.appendToStream('mine', 0, makeEvents(1))
  await store.linkToStream('mine', 1, await store.readStreamForward('other', 0, 2))
  const inbox = new Inbox()
  await store.subscribeToStream('mine', 'mine-reader', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(3)
  const status = await eventually(() => subscriptionNamed(store, 'mine-reader'), (s) => s.head === 3)
  t.match(status, { streamId: 'mine', head: 3, checkpoint: 0, lag: { events: 3 } })
  t.ok(status.lag.seconds > 0, 'the age of its first unacknowledged event')
})
