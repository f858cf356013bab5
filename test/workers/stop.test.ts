import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { eventually } from '../helpers/eventually.js'
import { spawnScript } from '../helpers/processes.js'
import { within } from '../helpers/settles.js'

t.test('stop() closes every connection of the store', async (t) => {
  const config = await freshStoreConfig(t, { workers: 2, poolSize: 4 })
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const connections = async () => {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE ${`%:${config.schema}`}`
    return row?.n ?? -1
  }
  const store = await EventStore.start(config)
  await store.appendToStream('s', 0, [{ eventType: 'E', data: {} }])
  await Promise.all(Array.from({ length: 20 }, () => store.readStreamForward('s')))
  t.ok((await connections()) >= 2, 'the writer and the reader threads are connected')
  await store.stop()
  // A backend leaves pg_stat_activity a moment after its client closed, and nothing says when.
  t.equal(await eventually(connections, (left) => left === 0, { within: 2000 }), 0, 'no connection is left')
  await t.rejects(store.appendToStream('s', 1, [{ eventType: 'E', data: {} }]), { code: 'connection' }, 'a stopped store refuses writes')
  await t.rejects(store.readStreamForward('s'), { code: 'connection' }, 'and reads')
  await store.stop()
})

t.test('a process that stops its store exits on its own: no thread, socket or timer left', async (t) => {
  const config = await freshStoreConfig(t)
  const child = spawnScript(t, 'fixtures/start_and_stop.ts', { URL: config.url, SCHEMA: config.schema })
  await child.waitFor((line) => line === 'stopped')
  const code = await within(child.exited, 10_000)
  t.equal(code, 0)
})

t.test('stop() drains the writer: queued appends are written first', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  const appends = Array.from({ length: 30 }, (_, i) => store.appendToStream(`s-${i}`, 0, [{ eventType: 'E', data: { i } }]))
  await store.stop()
  t.equal((await Promise.allSettled(appends)).filter((r) => r.status === 'fulfilled').length, 30)
  const again = await EventStore.start(config)
  t.equal((await again.streamInfo('$all')).streamVersion, 30)
  await again.stop()
})
