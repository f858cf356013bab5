// The store behind PgBouncer in transaction mode (Debian's 1.18: no prepared statements, no
// session state kept between transactions): url through the pooler, sessionUrl straight to
// the server, prepare: false. Across two processes, through a pooler restart under load, and
// beside a decoy schema that the server connections' search_path points at.
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { redactUrl } from '../../lib/config.js'
import { EventStore } from '../../lib/event_store.js'
import type { RecordedEvent } from '../../lib/types.js'
import { freshStoreConfig, testDatabaseUrl, uniqueSchema } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { becomesTrue } from '../helpers/eventually.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'
import { hasPgBouncer, startPgBouncer } from '../helpers/pgbouncer.js'
import { spawnScript } from '../helpers/processes.js'
import { within } from '../helpers/settles.js'

/** Skipped where pgbouncer is not installed (apt-get install pgbouncer; .ci/run does). */
const needsPgBouncer = { skip: hasPgBouncer() ? false : 'pgbouncer is not installed' }

const admin = (t: Test, url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  return sql
}

const rowsOf = (sql: postgres.Sql, schema: string) => async () =>
  (await sql.unsafe(`SELECT position FROM "${schema}".projected ORDER BY position`)).map((row) => Number(row.position))

t.test('appends, reads, a subscription and a projection across two processes, through PgBouncer', needsPgBouncer, async (t) => {
  const config = await freshStoreConfig(t)
  const direct = admin(t, config.url)
  await direct.unsafe(`CREATE TABLE "${config.schema}".projected (position bigint NOT NULL, stream text NOT NULL)`)
  const bouncer = await startPgBouncer(t, config.url)
  const pooled = { ...config, url: bouncer.url, sessionUrl: config.url, prepare: false }

  const child = spawnScript(t, 'fixtures/pooled_process.ts', { URL: bouncer.url, SESSION_URL: config.url, SCHEMA: config.schema, COUNT: '100' })
  await child.waitFor((line) => line === 'subscribed')
  const store = await EventStore.start(pooled)
  t.teardown(() => store.stop())
  t.equal(store.config.sessionUrl, redactUrl(config.url), 'the session url is the server, shown without its password')
  await store.project('rows', async (events, tx) => {
    for (const event of events) await tx`INSERT INTO projected (position, stream) VALUES (${event.eventNumber}, ${event.streamId})`
  })

  child.process.stdin?.write('append\n')
  for (let version = 0; version < 100; version += 5) await store.appendToStream('parent', version, makeEvents(5, version + 1))
  await child.waitFor((line) => line === 'appended')
  const delivered = async () => child.lines.filter((line) => line.startsWith('{')).flatMap((line) => (JSON.parse(line) as { events: number[] }).events)
  t.ok(await becomesTrue(async () => (await delivered()).length >= 200, 20_000), "the child's subscription heard both processes' appends")
  t.same(await delivered(), Array.from({ length: 200 }, (_, i) => i + 1), 'every event once, in $all order')
  const rows = rowsOf(direct, config.schema)
  t.ok(await becomesTrue(async () => (await rows()).length >= 200, 20_000), 'the projection caught up')
  t.same(await rows(), Array.from({ length: 200 }, (_, i) => i + 1), 'each event projected once, whichever process held it')

  t.same(numbersOf(await store.readStreamForward('child', 0, 1000)).length, 100, "the child's stream reads back whole")
  t.match((await store.status()).connections, { sessions: { max: 2, open: 2 } }, 'two server sessions (locks, LISTEN) per process, the rest through the pooler')
  const all = await store.readAllStreamsForward(0, 1000)
  t.same(numbersOf(all), Array.from({ length: 200 }, (_, i) => i + 1), '$all reads back gap-free')

  // The two processes share the work (lib/locks/lock_session.ts): the child, holding both,
  // hands the projection over to this process, which wants it too. Then this process
  // subscribes as well, on standby: one item each. When the child dies, its lock session
  // ends and this process takes the subscription over.
  const holderOf = async (name: string) => {
    const status = await store.status()
    return status.subscriptions.find((s) => s.name === name)?.holder?.store === status.store
  }
  t.ok(await becomesTrue(() => holderOf('$projection-rows'), 10_000), 'the projection moved to this process')
  const standby = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('shared', standby.subscriber)
  await standby.refuteReceive({ within: 1000 })
  child.process.kill('SIGKILL')
  await standby.receive('subscribed', { within: 10_000 })
  await store.appendToStream('parent', 100, makeEvents(1))
  const after: RecordedEvent[] = []
  while (!after.some((e) => e.eventNumber === 201)) after.push(...(await standby.receiveEvents(1, { within: 10_000 })))
  t.ok(after.every((e) => e.eventNumber > 0 && e.eventNumber <= 201), 'the standby resumed from the stored checkpoint and got the new event')
  t.ok(await becomesTrue(async () => (await rows()).length === 201, 20_000), 'the projection went on here')
})

t.test('a PgBouncer restart under load: nothing acknowledged is lost, nothing hangs, appends succeed again', needsPgBouncer, async (t) => {
  const config = await freshStoreConfig(t, { outcomeTimeout: 5000, connectTimeout: 2000 })
  const bouncer = await startPgBouncer(t, config.url)
  const store = await EventStore.start({ ...config, url: bouncer.url, sessionUrl: config.url, prepare: false })
  t.teardown(() => store.stop())
  const acknowledged: string[] = []
  const failures: string[] = []
  let hung = 0
  let restarted = false
  let afterRestart = 0
  let stopping = false
  const loop = async (writer: number) => {
    for (let i = 0; !stopping; i += 1) {
      const event = { eventType: 'Load', data: { writer, i }, eventId: crypto.randomUUID() }
      const result = await within(
        store.appendToStream(`load-${writer}`, 'any_version', [event]).then(
          () => 'ok',
          (error: Error & { code?: string }) => error.code ?? error.message,
        ),
        15_000,
      )
      if (result === 'hung') hung += 1
      else if (result === 'ok') {
        acknowledged.push(event.eventId)
        if (restarted) afterRestart += 1
      } else {
        failures.push(result)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }
  const loops = [1, 2, 3, 4].map((writer) => loop(writer))
  await becomesTrue(async () => acknowledged.length >= 50, 10_000)
  await bouncer.kill()
  await new Promise((resolve) => setTimeout(resolve, 500))
  await bouncer.start()
  restarted = true
  t.ok(await becomesTrue(async () => afterRestart >= 100, 20_000), `appends succeed again after the restart (${afterRestart})`)
  stopping = true
  await Promise.all(loops)
  t.equal(hung, 0, 'no append hung')
  t.comment(`${acknowledged.length} acknowledged, ${failures.length} refused while the pooler was down (${[...new Set(failures)].join(', ')})`)
  const direct = admin(t, config.url)
  const stored = new Set((await direct.unsafe(`SELECT event_id::text AS id FROM "${config.schema}".events`)).map((row) => row.id as string))
  t.equal(acknowledged.filter((id) => !stored.has(id)).length, 0, 'every acknowledged append is stored')
  t.ok(failures.every((code) => code === 'connection'), 'what failed failed as a ConnectionError')
  const all = await store.readAllStreamsForward(0, 10_000)
  t.same(numbersOf(all), Array.from({ length: all.length }, (_, i) => i + 1), '$all is gap-free')
  t.not(await within(store.stop(), 10_000), 'hung', 'the store stops')
})

t.test('nothing reaches a decoy schema that the server connections are pointed at', needsPgBouncer, async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  const decoy = `${schema}_decoy`
  const direct = admin(t, url)
  // A store's tables of the same names in the decoy: what an unqualified name would find.
  await EventStore.init({ url, schema: decoy })
  t.teardown(() => direct.unsafe(`DROP SCHEMA IF EXISTS "${decoy}" CASCADE; DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
  const bouncer = await startPgBouncer(t, url, { connectQuery: `SET search_path TO "${decoy}"` })
  // The sessions too: search_path as a startup parameter of the direct connection.
  const sessionUrl = new URL(url)
  sessionUrl.searchParams.set('search_path', decoy)
  const config = { url: bouncer.url, sessionUrl: sessionUrl.href, prepare: false, schema, workers: 1, poolSize: 2 }
  await EventStore.init(config) // migrations through the pooler too
  await direct.unsafe(`CREATE TABLE "${schema}".projected (position bigint NOT NULL, stream text NOT NULL)`)
  const through = postgres(bouncer.url, { max: 1, prepare: false, onnotice: () => {} })
  const [seen] = (await through.begin((tx) => tx`SHOW search_path`)) as { search_path: string }[]
  await through.end()
  t.equal(seen?.search_path, decoy, "the pooler's server connections have the decoy's search_path")

  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('decoyed', inbox.subscriber)
  await inbox.receive('subscribed', { within: 10_000 })
  await store.project('rows', async (events, tx) => {
    for (const event of events) await tx`INSERT INTO projected (position, stream) VALUES (${event.eventNumber}, ${event.streamId})`
  })
  await store.appendToStream('s', 'no_stream', makeEvents(3))
  await store.appendToStream('s', 3, makeEvents(2, 4))
  await store.linkToStream('linked', 'no_stream', (await store.readStreamForward('s')).slice(0, 2))
  await store.appendToStream('gone', 'no_stream', makeEvents(1))
  await store.deleteStream('gone', 1, 'soft')
  await store.recordSnapshot({ sourceUuid: 'snap', sourceVersion: 1, sourceType: 'T', data: { a: 1 } })
  t.match(await store.readSnapshot('snap'), { sourceVersion: 1 })
  t.equal((await store.readStreamForward('s')).length, 5)
  t.equal((await inbox.receiveEvents(6, { within: 10_000 })).length, 6, 'the subscription heard the appends')
  t.ok(await becomesTrue(async () => (await rowsOf(direct, schema)()).length === 6, 10_000), "the projection wrote its rows into the store's schema")
  t.match((await store.status()).subscriptions.find((s) => s.name === 'decoyed'), { checkpoint: 6 })

  const count = async (table: string) => Number((await direct.unsafe(`SELECT count(*) AS n FROM "${decoy}".${table}`))[0]?.n)
  t.same(
    { events: await count('events'), links: await count('links'), streams: await count('streams'), subscriptions: await count('subscriptions'), snapshots: await count('snapshots') },
    { events: 0, links: 0, streams: 1, subscriptions: 0, snapshots: 0 },
    'the decoy holds nothing but its own $all row',
  )
  t.equal(Number((await direct.unsafe(`SELECT stream_version AS v FROM "${decoy}".streams WHERE stream_id = 0`))[0]?.v), 0, "the decoy's $all did not move")
  const pinned = await direct.unsafe(
    `SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
     WHERE n.nspname = $1 AND l.lanname = 'plpgsql' ORDER BY p.proname`,
    [schema],
  )
  t.ok(pinned.length > 0 && pinned.every((row) => (row.proconfig as string[] | null)?.includes(`search_path=${schema}, pg_temp`)), "the store's plpgsql functions run in its own schema")
})
