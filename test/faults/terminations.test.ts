// Backends terminated under load: every 200 ms for 5 s, every connection of the store
// (writer, pool, listener, worker reads, subscription locks) is killed with
// pg_terminate_backend while 20 writers append and two subscriptions consume.
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { assertNothingLost, assertStopsCleanly, FaultLoad, watchForCrashes } from '../helpers/fault_load.js'

t.test('backends terminated every 200 ms under load', async (t) => {
  const crashes = watchForCrashes()
  t.teardown(crashes.stop)
  const config = await freshStoreConfig(t, { outcomeTimeout: 10_000 })
  const store = await EventStore.start(config)
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end({ timeout: 1 }))
  const load = new FaultLoad(store, { writers: 20, subscriptions: 2 })
  await load.start()
  t.ok(await load.resolved(50), 'the load is under way')
  let terminated = 0
  const until = Date.now() + 5000
  while (Date.now() < until) {
    const rows = await admin`
      SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE application_name LIKE ${`pg-eventstore%:${config.schema}`} AND pid <> pg_backend_pid()`
    terminated += rows.filter((r) => r.killed).length
    await sleep(200) // the fault's own pace
  }
  const calm = Date.now()
  await load.succeededAfter(calm)
  const recovery = load.firstSuccessAfter(calm)
  await load.stop()
  const report = await load.check(config.url, config.schema)
  t.comment(JSON.stringify({ terminated, recovery, ...report }))
  t.comment(JSON.stringify((await store.status()).subscriptions.map((s) => ({ state: s.state, checkpoint: s.checkpoint, head: s.head }))))
  t.ok(terminated >= 50, `${terminated} backends terminated`)
  assertNothingLost(t, report)
  t.ok(recovery !== null && recovery <= 2000, `appends succeed ${recovery} ms after the terminations stopped`)
  await assertStopsCleanly(t, store, crashes)
})
