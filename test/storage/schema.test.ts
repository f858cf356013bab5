import t from 'tap'
import postgres from 'postgres'
import { EventStore } from '../../lib/event_store.js'
import { openDatabase } from '../../lib/storage/database.js'
import { checkSchema, info, latestVersion, migrate, migrations, schemaVersion } from '../../lib/storage/schema.js'
import { freshStoreConfig, testDatabaseUrl, uniqueSchema } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox } from '../helpers/inbox.js'

t.test('start refuses a missing schema, naming the command to run', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  await t.rejects(EventStore.start({ url, schema, workers: 1 }), { code: 'schema', name: 'SchemaError', message: /pg-eventstore init --schema/ })
})

t.test('init, then info; init twice is refused; drop removes it', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  const sql = openDatabase({ url, schema, max: 1 })
  t.teardown(() => sql.end())
  await EventStore.init({ url, schema })
  t.equal(await schemaVersion(sql, schema), latestVersion)
  await t.rejects(EventStore.init({ url, schema }), { code: 'schema' })
  t.same(await EventStore.migrate({ url, schema }), [], 'nothing to migrate')
  const store = await EventStore.start({ url, schema, workers: 1 })
  await store.appendToStream('s', 0, makeEvents(3))
  await store.stop()
  t.match(await info(sql, schema), { version: latestVersion, streams: 1, events: 3, lastPosition: 3 })
  await EventStore.drop({ url, schema })
  const [row] = await sql`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${schema}`
  t.equal(row?.n, 0, 'the emptied schema is gone')
  t.equal(await schemaVersion(sql, schema), 0)
})

t.test('an out-of-date schema is refused until migrated; migrate moves it forward', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  const sql = openDatabase({ url, schema, max: 1 })
  t.teardown(async () => {
    await EventStore.drop({ url, schema })
    await sql.end()
  })
  await migrate(sql, schema, 0)
  t.equal(await schemaVersion(sql, schema), 0)
  await t.rejects(checkSchema(sql, schema), { code: 'schema', details: { version: 0, expected: latestVersion } })
  await sql.unsafe(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (${latestVersion + 1}, 'future')`)
  await t.rejects(checkSchema(sql, schema), { code: 'schema', message: /newer/ })
  await sql.unsafe(`DELETE FROM "${schema}".schema_migrations`)
  t.same(await EventStore.migrate({ url, schema }), migrations.map((m) => m.version))
  await checkSchema(sql, schema)
})

t.test('two migrations at once: one applies, the other finds nothing to do', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  t.teardown(() => EventStore.drop({ url, schema }))
  const results = await Promise.all([EventStore.migrate({ url, schema }), EventStore.migrate({ url, schema })])
  t.same(results.map((r) => r.length).sort(), [0, migrations.length])
})

t.test('the database refuses to change or delete events', async (t) => {
  const config = await freshStoreConfig(t)
  const store = await EventStore.start(config)
  await store.appendToStream('s', 0, makeEvents(2))
  const [first] = await store.readStreamForward('s')
  await store.linkToStream('l', 0, [first!])
  await store.stop()
  const sql = postgres(config.url, { max: 1, onnotice: () => {}, connection: { search_path: config.schema } })
  t.teardown(() => sql.end())
  for (const statement of ['UPDATE events SET event_type = $$x$$', 'DELETE FROM events', 'TRUNCATE events CASCADE', 'TRUNCATE links', 'DELETE FROM links', 'UPDATE links SET stream_version = 9']) {
    await t.rejects(sql.unsafe(statement), { code: 'ES001' }, statement)
  }
  const [row] = await sql`SELECT count(*)::int AS n FROM events`
  t.equal(row?.n, 2)
  await sql.begin(async (tx) => {
    await tx`SELECT set_config('pg_eventstore.hard_delete', 'on', true)`
    await tx`DELETE FROM links`
  })
  const [after] = await sql`SELECT current_setting('pg_eventstore.hard_delete', true) AS setting`
  t.not(after?.setting, 'on', 'the switch does not outlive its transaction')
})

t.test('two stores in two schemas of one database, in one process, are isolated: reads, appends, notifications, subscriptions, snapshots', async (t) => {
  const one = await EventStore.start(await freshStoreConfig(t))
  const two = await EventStore.start(await freshStoreConfig(t))
  t.teardown(async () => {
    await one.stop()
    await two.stop()
  })
  const oneInbox = new Inbox({ autoAck: true })
  const twoInbox = new Inbox({ autoAck: true })
  await one.subscribeToAllStreams('same-name', oneInbox.subscriber)
  await two.subscribeToAllStreams('same-name', twoInbox.subscriber)
  await oneInbox.receive('subscribed')
  await twoInbox.receive('subscribed', { within: 3000 })
  t.pass('the same subscription name is held in both schemas at once (locks are per schema)')
  await one.appendToStream('s', 0, makeEvents(2))
  await two.appendToStream('s', 0, makeEvents(1))
  t.equal((await one.readStreamForward('s')).length, 2)
  t.equal((await two.readStreamForward('s')).length, 1)
  t.equal((await two.streamInfo('$all')).streamVersion, 1)
  t.same((await oneInbox.receiveEvents(2)).map((e) => e.data), [{ n: 1 }, { n: 2 }])
  t.same((await twoInbox.receiveEvents(1)).map((e) => e.data), [{ n: 1 }])
  // A sentinel in each schema is the next delivery there: nothing crossed over before it.
  await one.appendToStream('sentinel', 0, makeEvents(1))
  await two.appendToStream('sentinel', 0, makeEvents(1))
  t.same((await oneInbox.receiveEvents(1)).map((e) => [e.streamId, e.eventNumber]), [['sentinel', 3]])
  t.same((await twoInbox.receiveEvents(1)).map((e) => [e.streamId, e.eventNumber]), [['sentinel', 2]])
  await one.recordSnapshot({ sourceUuid: 'x', sourceVersion: 1, sourceType: 'T', data: {} })
  await t.rejects(two.readSnapshot('x'), { code: 'snapshot_not_found' })
})

/** Everything a migration makes, as comparable text: columns, indexes, constraints, triggers, functions. */
async function catalog(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql.unsafe<{ item: string }[]>(
    `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
       FROM information_schema.columns WHERE table_schema = $1
     UNION ALL SELECT 'index ' || indexname || ' ' || replace(indexdef, $1 || '.', '') FROM pg_indexes WHERE schemaname = $1
     UNION ALL SELECT 'constraint ' || c.conname || ' ' || replace(pg_get_constraintdef(c.oid), $1 || '.', '')
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
     UNION ALL SELECT 'trigger ' || t.tgname || ' ' || replace(pg_get_triggerdef(t.oid), $1 || '.', '')
       FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = $1 AND NOT t.tgisinternal
     UNION ALL SELECT 'function ' || p.proname || ' ' || md5(p.prosrc)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
     ORDER BY 1`,
    [schema],
  )
  return rows.map((r) => r.item)
}

t.test('a store made by an older version migrates to exactly what a fresh init makes', async (t) => {
  const url = await testDatabaseUrl(t)
  const old = uniqueSchema(t)
  const fresh = uniqueSchema(t)
  const sql = openDatabase({ url, schema: old, max: 1 })
  t.teardown(async () => {
    await EventStore.drop({ url, schema: old })
    await EventStore.drop({ url, schema: fresh })
    await sql.end()
  })
  await migrate(sql, old, 1)
  await sql.unsafe(`INSERT INTO "${old}".streams (stream_uuid, stream_version) VALUES ('before-upgrade', 0)`)
  await EventStore.migrate({ url, schema: old })
  await EventStore.init({ url, schema: fresh })
  const [before, after] = [await catalog(sql as unknown as postgres.Sql, old), await catalog(sql as unknown as postgres.Sql, fresh)]
  t.ok(before.length > 20, `${before.length} catalog entries compared`)
  t.same(before, after)
  const store = await EventStore.start({ url, schema: old, workers: 1 })
  t.teardown(() => store.stop())
  await store.appendToStream('before-upgrade', 0, [{ eventType: 'E', data: {} }])
  t.equal((await store.streamInfo('before-upgrade')).streamVersion, 1, 'data made before the upgrade is usable')
})
