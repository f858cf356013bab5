// PostgreSQL restarts (immediate, as a crash, then fast) under 20 writers and two
// subscriptions: no crash, no hung call, no acknowledged append lost, no outcome
// misreported, $all without gaps, appends succeed within 2 s of the server being back, and
// the subscriptions catch up on every event.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { assertNothingLost, assertStopsCleanly, FaultLoad, watchForCrashes } from '../helpers/fault_load.js'
import { restartableServer, storeOn } from '../helpers/restartable_server.js'

/** A store on a server of the test's own, with uncaught exceptions watched from the start. */
async function storeOnOwnServer(t: Test, schema: string) {
  const crashes = watchForCrashes()
  t.teardown(crashes.stop)
  const server = await restartableServer(t)
  const config = await storeOn(server, schema)
  return { crashes, server, config, store: await EventStore.start(config) }
}

t.test('PostgreSQL restarted twice under load', async (t) => {
  const { crashes, server, config, store } = await storeOnOwnServer(t, 'restarts')
  const load = new FaultLoad(store, { writers: 20, subscriptions: 2 })
  await load.start()
  const recoveries: (number | null)[] = []
  for (const mode of ['immediate', 'fast'] as const) {
    t.ok(await load.resolved(100), `the load is under way before the ${mode} restart`)
    const before = load.resolvedCount
    await server.stop(mode)
    await sleep(1000) // the server stays down a while, as after a crash
    await server.start()
    const back = Date.now() // the server accepts connections again
    await load.succeededAfter(back)
    recoveries.push(load.firstSuccessAfter(back))
    t.ok(await load.resolved(50), `appends went on after the ${mode} restart`)
    t.ok(load.resolvedCount > before)
  }
  await load.stop()
  const report = await load.check(config.url, config.schema)
  t.comment(JSON.stringify({ recoveries, ...report }))
  assertNothingLost(t, report)
  for (const recovery of recoveries) t.ok(recovery !== null && recovery <= 2000, `an append succeeded ${recovery} ms after the server was back`)
  t.ok(report.warnings > 0, 'the store reported what it survived')
  await assertStopsCleanly(t, store, crashes)
})

t.test('while PostgreSQL is down: appends and reads fail fast as connection, and stop() resolves', async (t) => {
  const { crashes, server, store } = await storeOnOwnServer(t, 'down')
  await store.appendToStream('s', 0, [{ eventType: 'E', data: {} }])
  await store.subscribeToAllStreams('watcher', (message) => {
    if (message.type === 'events') message.subscription.ack(message.events)
  })
  await server.stop('immediate')
  const started = Date.now()
  const results = await Promise.allSettled([
    ...Array.from({ length: 10 }, (_, i) => store.appendToStream(`down-${i}`, 0, [{ eventType: 'E', data: {} }])),
    store.readStreamForward('s'),
  ])
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))
  t.same(new Set(codes), new Set(['connection']), 'every call rejects with connection')
  t.ok(Date.now() - started < 15_000, `they settled within ${Date.now() - started} ms`)
  const stopping = Date.now()
  await assertStopsCleanly(t, store, crashes)
  t.comment(`stop() took ${Date.now() - stopping} ms with the server down`)
})
