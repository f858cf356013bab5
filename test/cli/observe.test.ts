// pg-eventstore status [--watch], events <stream|$all> [--from N] [--follow], and ui, run as
// an operator would: separate processes, their output read as a pipe (JSON lines).
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { SubscriptionStatus } from '../../lib/observability/status.js'
import type { RecordedEvent } from '../../lib/types.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox } from '../helpers/inbox.js'
import { spawnScript } from '../helpers/processes.js'

const CLI = '../lib/cli/main.ts'

async function setUp(t: Test) {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const run = (...args: string[]) => spawnScript(t, CLI, { DATABASE_URL: config.url }, [...args, '--schema', config.schema])
  return { config, store, run }
}

const parsed = <T>(lines: string[]) => lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as T)

t.test('events prints a stream, or $all from a position, as JSON lines', async (t) => {
  const { store, run } = await setUp(t)
  await store.appendToStream('a', 0, makeEvents(3))
  await store.appendToStream('b', 0, makeEvents(2))
  const stream = run('events', 'a')
  t.equal(await stream.exited, 0)
  t.same(parsed<RecordedEvent>(stream.lines).map((e) => [e.streamId, e.eventNumber]), [['a', 1], ['a', 2], ['a', 3]])
  const all = run('events', '$all', '--from', '3')
  t.equal(await all.exited, 0)
  t.same(parsed<RecordedEvent>(all.lines).map((e) => e.eventNumber), [3, 4, 5])
  const missing = run('events', 'nope')
  t.equal(await missing.exited, 1, 'a stream that does not exist fails')
  const bad = run('events', 'a', '--from', 'x')
  t.equal(await bad.exited, 1, 'a malformed --from fails')
})

t.test('events --follow prints history, then each new event once, until interrupted', async (t) => {
  const { store, run } = await setUp(t)
  await store.appendToStream('live', 0, makeEvents(2))
  const follow = run('events', 'live', '--follow')
  await follow.waitFor((line) => line.includes('"eventNumber":2'))
  await store.appendToStream('live', 2, makeEvents(2))
  await follow.waitFor((line) => line.includes('"eventNumber":4'))
  follow.process.kill('SIGINT')
  t.equal(await follow.exited, 0, 'Ctrl-C ends it cleanly')
  t.same(parsed<RecordedEvent>(follow.lines).map((e) => e.eventNumber), [1, 2, 3, 4], 'every event once, in order')
})

t.test('status lists subscriptions with their lag; --watch refreshes until interrupted', async (t) => {
  const { store, run } = await setUp(t)
  await store.appendToStream('s', 0, makeEvents(4))
  const inbox = new Inbox()
  await store.subscribeToAllStreams('behind', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  await inbox.receiveEvents(4)
  const once = run('status')
  t.equal(await once.exited, 0)
  const [row] = parsed<SubscriptionStatus>(once.lines)
  t.match(row, { name: 'behind', streamId: '$all', head: 4, checkpoint: 0, lag: { events: 4 }, holder: { pid: process.pid } })
  const watch = run('status', '--watch')
  await watch.waitFor((line) => line.includes('"behind"'))
  inbox.messages.at(-1)?.subscription.ack(inbox.messages.flatMap((m) => (m.type === 'events' ? m.events : [])))
  await watch.waitFor((line) => line.includes('"lag":{"events":0'), 15_000)
  watch.process.kill('SIGINT')
  t.equal(await watch.exited, 0)
  t.ok(parsed<SubscriptionStatus>(watch.lines).length >= 2, 'it printed more than once')
})

t.test('ui serves the page; a public host without a token is refused', async (t) => {
  const { run } = await setUp(t)
  const open = run('ui', '--host', '0.0.0.0')
  t.equal(await open.exited, 1, 'refused')
  const ui = run('ui', '--port', '0')
  const line = await ui.waitFor((l) => l.startsWith('admin page:'))
  const url = /http:\/\/\S+/.exec(line)?.[0] as string
  const response = await fetch(url)
  t.equal(response.status, 200)
  t.match(await response.text(), /<title>pg-eventstore<\/title>/)
  ui.process.kill('SIGINT')
  t.equal(await ui.exited, 0)
})
