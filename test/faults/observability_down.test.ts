// status(), metrics() and the admin page while PostgreSQL is down: they answer (or fail as
// `connection`) within bounds, the live feed says the database is gone, nothing crashes, and
// all of it works again once the server is back.
import t from 'tap'
import { startAdminServer } from '../../lib/admin/server.js'
import { EventStore } from '../../lib/event_store.js'
import { assertStopsCleanly, watchForCrashes } from '../helpers/fault_load.js'
import { restartableServer, storeOn } from '../helpers/restartable_server.js'

/** Reads server-sent frames from the live feed until `until` holds for one, or `ms` passes. */
async function liveFrame(url: string, until: (frame: string) => boolean, ms: number): Promise<string | null> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), ms)
  try {
    const response = await fetch(`${url}api/live`, { signal: controller.signal })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return null
      text += new TextDecoder().decode(value)
      const frames = text.split('\n\n')
      text = frames.pop() ?? ''
      const found = frames.find(until)
      if (found) return found
    }
  } catch {
    return null
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

t.test('status, metrics and the admin page while PostgreSQL is down, then back', async (t) => {
  const crashes = watchForCrashes()
  t.teardown(crashes.stop)
  const server = await restartableServer(t)
  const store = await EventStore.start(await storeOn(server, 'observe_down'))
  await store.appendToStream('s', 0, [{ eventType: 'E', data: {} }])
  await store.subscribeToAllStreams('watcher', (message) => {
    if (message.type === 'events') message.subscription.ack(message.events)
  })
  const admin = await startAdminServer(store, { port: 0 })
  t.teardown(() => admin.close())
  t.ok(await liveFrame(admin.url, (frame) => frame.startsWith('data:'), 5000), 'the live feed runs')

  await server.stop('immediate')
  const started = Date.now()
  await t.rejects(store.status(), { code: 'connection' }, 'status() fails as connection')
  t.ok(Date.now() - started < 15_000, `within ${Date.now() - started} ms`)
  t.equal(store.metrics().counters.appends, 1, 'metrics() needs no database')
  const response = await fetch(`${admin.url}api/status`)
  t.equal(response.status, 503)
  t.match(await response.json(), { error: { code: 'connection' } })
  const failure = await liveFrame(admin.url, (frame) => frame.startsWith('event: failure'), 20_000)
  t.ok(failure, 'the live feed tells the page the database is gone')

  await server.start()
  // Each call fails fast until the store reconnects.
  let status = null
  for (const deadline = Date.now() + 10_000; !status && Date.now() < deadline; ) status = await store.status().catch(() => null)
  t.match(status?.subscriptions, [{ name: 'watcher', head: 1 }], 'status() answers again')
  t.ok(await liveFrame(admin.url, (frame) => frame.startsWith('data:'), 10_000), 'the live feed runs again')
  await admin.close()
  await assertStopsCleanly(t, store, crashes)
})
