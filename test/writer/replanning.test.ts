import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import t from 'tap'
import { closeDatabase, openDatabase, type Sql } from '../../lib/storage/database.js'
import type { PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'
import { Replanning } from '../../lib/writer/replanning.js'
import { Writer } from '../../lib/writer/writer.js'
import { freshStoreConfig } from '../helpers/database.js'

t.test('plans are made again each time $all has doubled since they were made, from 1,000 events', async (t) => {
  const replanning = new Replanning()
  t.equal(replanning.due(10), false, 'a new connection plans for the tables as they are')
  t.equal(replanning.due(999), false)
  t.equal(replanning.due(1_000), true)
  t.equal(replanning.due(1_999), false)
  t.equal(replanning.due(2_500), true)
  t.equal(replanning.due(4_999), false)
  t.equal(replanning.due(5_000), true)
  replanning.reset()
  t.equal(replanning.due(100_000), false, 'a replaced connection starts again')
  t.equal(replanning.due(199_999), false)
  t.equal(replanning.due(200_000), true)
})

const event = (): PreparedEvent => ({ eventId: randomUUID(), eventType: 'E', causationId: null, correlationId: null, dataJson: '{}', metadataJson: '{}', idGiven: false })
const appendAt = (streamId: string, expected: number): WriteRequest => ({ type: 'append', streamId, expected, events: [event()] })

/** The plan the connection's cached one-statement write would run now (EXPLAIN EXECUTE on that very session). */
async function cachedWritePlan(session: Sql): Promise<{ text: string; generic: number }> {
  // This query is prepared on the session too, and names what it looks for.
  const [statement] = await session`SELECT name, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%moved_all%' AND statement NOT LIKE '%pg_prepared_statements%'`
  if (!statement) throw new Error('the write statement is not prepared on the writer connection')
  const empty = (type: string) => `'{}'::${type}[]`
  const args = [empty('text'), empty('bigint'), empty('text'), empty('bigint'), empty('bigint'), '0', empty('bigint'), empty('uuid'), empty('text'), empty('bigint'), empty('text'), empty('uuid'), empty('uuid'), "''", "''", "'c'", "'null'", "'o'", empty('text'), empty('bigint')]
  const rows = await session.unsafe(`EXPLAIN EXECUTE "${statement.name as string}"(${args.join(', ')})`)
  return { text: rows.map((row) => row['QUERY PLAN'] as string).join('\n'), generic: Number(statement.generic_plans) }
}

t.test('a generic plan made while streams was small is dropped once the store has grown', async (t) => {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  const session = openDatabase({ url: config.url, schema: config.schema, max: 1, role: 'pg-eventstore writer' })
  const writer = new Writer(sql, config.schema, { openConnection: () => session })
  t.teardown(async () => {
    await writer.stop()
    await closeDatabase(sql)
  })
  // Nothing analyzes the tables meanwhile (that too would make the plans again).
  await sql.unsafe(`ALTER TABLE ${config.schema}.streams SET (autovacuum_enabled = false)`)
  await sql.unsafe(`ALTER TABLE ${config.schema}.events SET (autovacuum_enabled = false)`)

  for (let version = 0; version < 12; version += 1) await writer.post(appendAt('grows', version))
  const small = await cachedWritePlan(session)
  t.ok(small.generic > 0, 'PostgreSQL chose a generic plan for the write')
  t.match(small.text, /Seq Scan on streams s/, 'planned while streams was small: a stream that grows is found by a sequential scan')

  // 200,000 more streams, and $all moved as their events would have moved it.
  await sql.unsafe(`INSERT INTO ${config.schema}.streams (stream_uuid, stream_version) SELECT 'seeded-' || g, 1 FROM generate_series(1, 200000) AS g`)
  await sql.unsafe(`UPDATE ${config.schema}.streams SET stream_version = stream_version + 200000 WHERE stream_id = 0`)
  for (let version = 12; version < 24; version += 1) await writer.post(appendAt('grows', version))
  const grown = await cachedWritePlan(session)
  t.notMatch(grown.text, /Seq Scan on streams/, 'made again for 200,000 streams')
  t.match(grown.text, /Index Scan using streams_stream_uuid_key on streams s/)
  const [row] = await sql`SELECT stream_version FROM ${sql(config.schema)}.streams WHERE stream_uuid = 'grows'`
  t.equal(row?.stream_version, 24, 'every append written')
})

const LOCK_KEY = 424242

t.test('dropping the plans fails or hangs: the writer reports it and goes on writing; behind a pooler it is not tried', async (t) => {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  t.teardown(() => closeDatabase(sql))
  // What the hanging DISCARD waits for; released once the writer has given up on it, so its backend ends.
  const blocker = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => blocker.end())
  for (const fault of ['fails', 'hangs', 'behind a pooler'] as const) {
    const reports: string[] = []
    let discards = 0
    if (fault === 'hangs') await blocker`SELECT pg_advisory_lock(${LOCK_KEY})`
    // The writer's connection, with its DISCARD PLANS refused by the server or never answered.
    const openConnection = () => {
      const session = openDatabase({ url: config.url, schema: config.schema, max: 1 })
      const unsafe = session.unsafe.bind(session)
      session.unsafe = ((query: string, ...rest: unknown[]) => {
        if (query !== 'DISCARD PLANS') return (unsafe as (...args: unknown[]) => unknown)(query, ...rest)
        discards += 1
        return unsafe(fault === 'fails' ? 'SELECT 1/0' : `SELECT pg_advisory_xact_lock(${LOCK_KEY})`)
      }) as typeof session.unsafe
      return session
    }
    const cachesPlans = fault !== 'behind a pooler'
    const writer = new Writer(sql, config.schema, { openConnection, cachesPlans, outcomeTimeout: 300, report: (_level, _source, message) => reports.push(message) })
    await sql.unsafe(`UPDATE ${config.schema}.streams SET stream_version = stream_version + 5000 WHERE stream_id = 0`)
    await writer.post(appendAt(`${fault}-a`, 0)) // plans made at this size
    await sql.unsafe(`UPDATE ${config.schema}.streams SET stream_version = stream_version * 3 WHERE stream_id = 0`)
    await writer.post(appendAt(`${fault}-b`, 0)) // $all more than doubled: the plans are dropped
    await writer.post(appendAt(`${fault}-c`, 0))
    if (cachesPlans) t.ok(reports.some((m) => m.includes('cached plans failed')), `${fault}: reported`)
    else t.same([discards, reports], [0, []], 'a connection that caches no plans is not told to drop them')
    const [row] = await sql`SELECT count(*)::int AS n FROM ${sql(config.schema)}.streams WHERE stream_uuid LIKE ${`${fault}-%`}`
    t.equal(row?.n, 3, `${fault}: every append written`)
    await writer.stop()
    if (fault === 'hangs') await blocker`SELECT pg_advisory_unlock(${LOCK_KEY})`
  }
})

t.test('links count toward the growth that re-plans, though they do not move $all', async (t) => {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  let discards = 0
  const openConnection = () => {
    const session = openDatabase({ url: config.url, schema: config.schema, max: 1 })
    const unsafe = session.unsafe.bind(session)
    session.unsafe = ((query: string, ...rest: unknown[]) => {
      if (query === 'DISCARD PLANS') discards += 1
      return (unsafe as (...args: unknown[]) => unknown)(query, ...rest)
    }) as typeof session.unsafe
    return session
  }
  const writer = new Writer(sql, config.schema, { openConnection })
  t.teardown(async () => {
    await writer.stop()
    await closeDatabase(sql)
  })
  const source: WriteRequest = { type: 'append', streamId: 'source', expected: 0, events: Array.from({ length: 10 }, event) }
  await writer.post(source)
  const eventIds = source.events.map((e) => e.eventId)
  // 1,100 links into 110 streams: $all stays at 10.
  for (let i = 0; i < 110; i += 1) await writer.post({ type: 'link', streamId: `linked-${i}`, expected: 'any_version', eventIds })
  const [all] = await sql`SELECT stream_version FROM ${sql(config.schema)}.streams WHERE stream_id = 0`
  t.equal(all?.stream_version, 10)
  t.ok(discards >= 1, `the plans were dropped once links had grown the store past 1,000 rows (${discards})`)
})
