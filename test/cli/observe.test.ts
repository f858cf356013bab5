// pg-eventstore status [--watch], events <stream|$all> [--from N] [--follow], and ui, run as
// an operator would: separate processes, their output read as a pipe (JSON lines).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { SubscriptionStatus } from '../../lib/observability/status.js'
import type { RecordedEvent } from '../../lib/types.js'
import { runCli } from '../helpers/cli.js'
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

t.test('events --follow takes its session from --session-url, with --no-prepare as behind a pooler', async (t) => {
  const { config, store, run } = await setUp(t)
  await store.appendToStream('pooled', 0, makeEvents(1))
  const follow = run('events', 'pooled', '--follow', '--no-prepare', '--session-url', config.url)
  await follow.waitFor((line) => line.includes('"eventNumber":1'))
  await store.appendToStream('pooled', 1, makeEvents(1))
  await follow.waitFor((line) => line.includes('"eventNumber":2'))
  follow.process.kill('SIGINT')
  t.equal(await follow.exited, 0)
  const unreachable = await runCli({ databaseUrl: config.url }, 'events', 'pooled', '--follow', '--schema', config.schema, '--session-url', 'postgres://root@127.0.0.1:1/nowhere')
  t.not(unreachable.code, 0, 'a session URL that cannot be reached fails the follow')
  t.match(unreachable.stderr, /127\.0\.0\.1:1/, 'and the error names it')
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

/**
 * The CLI with stdout a pipe that is closed after the first line, as `| head -1` does; resolves
 * with its exit code and all it wrote to stderr. `afterFirstLine` runs once the pipe is closed.
 */
async function readFirstLineOnly(t: Test, databaseUrl: string, args: string[], afterFirstLine: () => Promise<unknown> = async () => {}) {
  const main = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let seen = ''
  await new Promise<void>((resolve) => {
    const read = (chunk: Buffer) => {
      seen += chunk.toString()
      if (!seen.includes('\n')) return
      child.stdout.off('data', read)
      child.stdout.destroy()
      resolve()
    }
    child.stdout.on('data', read)
  })
  await afterFirstLine()
  return { code: await closed, stderr, firstLine: seen.split('\n')[0] as string }
}

t.test('events into a pipe its reader closes after one line ends quietly with status 0', async (t) => {
  const { config, store } = await setUp(t)
  // Far more than a pipe holds (64 KiB): the CLI is still writing when its reader goes.
  const padding = 'x'.repeat(500)
  for (let stream = 0; stream < 3; stream += 1) {
    await store.appendToStream(`padded-${stream}`, 0, Array.from({ length: 500 }, (_, n) => ({ eventType: 'Padded', data: { n, padding } })))
  }
  const run = await readFirstLineOnly(t, config.url, ['events', '$all', '--schema', config.schema])
  t.match(JSON.parse(run.firstLine), { eventNumber: 1 })
  t.equal(run.code, 0)
  t.equal(run.stderr, '', 'no EPIPE, no stack trace')
})

t.test('events --follow ends quietly with status 0 once its reader has gone', async (t) => {
  const { config, store } = await setUp(t)
  await store.appendToStream('followed', 0, makeEvents(1))
  const run = await readFirstLineOnly(t, config.url, ['events', 'followed', '--follow', '--schema', config.schema], () =>
    // The next event finds the pipe closed.
    store.appendToStream('followed', 1, makeEvents(1)),
  )
  t.equal(run.code, 0)
  t.equal(run.stderr, '')
})
