import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { spawnScript } from '../helpers/processes.js'

t.test('N concurrent appends at the same expected version: exactly one succeeds', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  for (const expected of [0, 'no_stream'] as const) {
    const stream = `race-${expected}`
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.appendToStream(stream, expected, makeEvents(2))))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `${expected}: one winner`)
    t.equal((await store.streamInfo(stream)).streamVersion, 2)
  }
})

t.test('the same race across processes: exactly one succeeds', async (t) => {
  const config = await freshStoreConfig(t)
  const children = ['a', 'b', 'c', 'd'].map((name) =>
    spawnScript(t, 'fixtures/appender.ts', { URL: config.url, SCHEMA: config.schema, MODE: 'race', NAME: name }),
  )
  await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready')))
  for (const child of children) child.process.stdin?.write('go\n')
  const results = await Promise.all(children.map(async (c) => JSON.parse(await c.waitFor((l) => l.startsWith('{'))).result as string))
  t.same(results.sort(), ['ok', 'wrong_expected_version', 'wrong_expected_version', 'wrong_expected_version'])
  await Promise.all(children.map((c) => c.exited))
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  t.equal((await store.readStreamForward('race')).length, 1)
})

t.test('$all is gap-free and in commit order while two processes append concurrently', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const children = ['p1', 'p2'].map((name) =>
    spawnScript(t, 'fixtures/appender.ts', { URL: config.url, SCHEMA: config.schema, MODE: 'writers', NAME: name }),
  )
  await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready')))
  for (const child of children) child.process.stdin?.write('go\n')
  const total = 2 * 10 * 20 * 3
  let last = 0
  let reads = 0
  let gaps = 0
  const deadline = Date.now() + 60_000
  while (last < total && Date.now() < deadline) {
    const page = await store.readAllStreamsForward(last + 1, 500)
    reads += 1
    for (const event of page) {
      if (event.eventNumber !== last + 1) gaps += 1
      last = event.eventNumber
    }
  }
  t.equal(gaps, 0, `a reader polling $all ${reads} times never saw a position before the one below it`)
  t.equal(last, total, 'every event is in $all')
  const perStream = new Map<string, number[]>()
  for await (const event of store.streamAllForward()) perStream.set(event.streamId, [...(perStream.get(event.streamId) ?? []), event.streamVersion])
  t.equal(perStream.size, 20)
  t.ok([...perStream.values()].every((versions) => versions.every((v, i) => v === i + 1)), 'each stream in version order within $all')
  t.same(await Promise.all(children.map((c) => c.exited)), [0, 0])
})
