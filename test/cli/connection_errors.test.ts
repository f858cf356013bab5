// A first connection that fails, from code and from the CLI, against real servers: an unknown
// role, a missing database, a port nobody listens on, a wrong password; and init into a
// schema that already holds a table of its own.
import { createServer } from 'node:net'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { acquireEmbeddedServer } from '../../lib/embedded/server.js'
import { EventStore } from '../../lib/event_store.js'
import { cli } from '../helpers/cli.js'
import { testDatabaseUrl, uniqueSchema } from '../helpers/database.js'
import { testDataDir } from '../helpers/server.js'

const PASSWORD = 'not-to-be-shown-7f3a'

/**
 * The test server's URL with another user, database or port. It keeps the server's password
 * (else the server would refuse that first); where the server needs none, it gets PASSWORD,
 * which no message may show either way.
 */
async function variant(t: Test, change: { user?: string; database?: string; port?: number }): Promise<string> {
  const url = new URL(await testDatabaseUrl(t))
  if (change.user) url.username = change.user
  if (!url.password) url.password = PASSWORD
  if (change.database) url.pathname = `/${change.database}`
  if (change.port) url.port = String(change.port)
  return url.toString()
}

const passwordOf = (url: string) => decodeURIComponent(new URL(url).password)

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** start and init reject alike: code 'connection', the expected details, and the password nowhere. */
async function refusedFromCode(t: Test, url: string, details: Record<string, unknown>, hint: RegExp) {
  for (const [what, call] of [
    ['start', () => EventStore.start({ url, workers: 1, poolSize: 1, openTelemetry: false })],
    ['init', () => EventStore.init({ url, schema: uniqueSchema(t) })],
  ] as const) {
    const error = (await call().then(
      () => null,
      (caught: unknown) => caught,
    )) as Error & { code?: string; details?: unknown }
    t.match(error, { code: 'connection', name: 'ConnectionError', details }, what)
    t.match(error?.message, hint, `${what}: the message says what to do`)
    t.notOk(`${error?.message} ${JSON.stringify(error?.details)} ${String((error?.cause as Error)?.message)}`.includes(passwordOf(url)), `${what}: no password`)
  }
}

async function refusedFromCli(t: Test, url: string, hint: RegExp) {
  for (const command of ['info', 'init', 'status']) {
    const run = await cli(command, '--url', url)
    t.equal(run.code, 1, command)
    t.match(run.stderr, /\[connection\]/, `${command}: the code`)
    t.match(run.stderr, hint, `${command}: the hint`)
    t.notOk(run.stderr.includes(passwordOf(url)) || run.stdout.includes(passwordOf(url)), `${command}: no password`)
  }
}

t.test('a role that does not exist (28000, or 28P01 where the server asks for a password)', async (t) => {
  // A server that asks for a password answers an unknown role as a wrong password (28P01), so
  // as not to tell which roles exist; one that trusts the connection says 28000.
  const url = await variant(t, { user: 'no_such_role_pg_eventstore' })
  await refusedFromCode(t, url, { sqlstate: /^28(000|P01)$/, user: 'no_such_role_pg_eventstore' }, /check the user (and password )?in the URL/)
  await refusedFromCli(t, url, /check the user (and password )?in the URL/)
})

t.test('a wrong password (28P01)', async (t) => {
  // On the tests' embedded server, whatever DATABASE_URL says: it asks for passwords (scram),
  // where a shared server may trust local connections.
  const server = await acquireEmbeddedServer({ dataDir: testDataDir, createSystemUser: true })
  t.teardown(() => server.release())
  const url = new URL(server.url)
  const realPassword = decodeURIComponent(url.password)
  url.password = PASSWORD
  await refusedFromCode(t, url.toString(), { sqlstate: '28P01', user: 'postgres' }, /check the user and password in the URL/)
  await refusedFromCli(t, url.toString(), /check the user and password in the URL/)
  const run = await cli('info', '--url', url.toString())
  t.notOk(run.stderr.includes(realPassword), 'nor the right one')
})

t.test('a database that does not exist (3D000): the message says to run create', async (t) => {
  const url = await variant(t, { database: 'no_such_database_pg_eventstore' })
  await refusedFromCode(t, url, { sqlstate: '3D000', database: 'no_such_database_pg_eventstore' }, /run `pg-eventstore create`/)
  await refusedFromCli(t, url, /run `pg-eventstore create`/)
})

t.test('a port nobody listens on', async (t) => {
  const port = await freePort()
  const url = await variant(t, { port })
  await refusedFromCode(t, url, { code: 'ECONNREFUSED', port, host: '127.0.0.1' }, /is the server running\? Check the host and port/)
  await refusedFromCli(t, url, /is the server running\?/)
})

t.test('init into a schema that holds a table of the same name: a schema error naming --schema', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await sql.end()
  })
  await sql.unsafe(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".events (id int); INSERT INTO "${schema}".events VALUES (7)`)
  const error = await EventStore.init({ url, schema }).then(
    () => null,
    (caught: unknown) => caught,
  )
  t.match(error, { code: 'schema', details: { schema, sqlstate: '42P07' } })
  t.match((error as Error)?.message, /pg-eventstore init --schema NAME/)
  const run = await cli('init', '--url', url, '--schema', schema)
  t.equal(run.code, 1)
  t.match(run.stderr, /--schema NAME.*\[schema\]/)
  const tables = await sql<{ name: string }[]>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${schema}`
  t.same(tables.map((row) => row.name), ['events'], 'nothing of the store was left, the table is untouched')
  t.same(await sql.unsafe(`SELECT id FROM "${schema}".events`), [{ id: 7 }])

  // Nor do drop and reset touch a table the store did not make.
  await t.rejects(EventStore.drop({ url, schema }), { code: 'schema', message: /not a pg-eventstore store.*events.*nothing was dropped/ })
  for (const command of ['drop', 'reset']) {
    const refused = await cli(command, '--url', url, '--schema', schema)
    t.equal(refused.code, 1, `${command} is refused`)
    t.match(refused.stderr, /not a pg-eventstore store/)
  }
  t.same(await sql.unsafe(`SELECT id FROM "${schema}".events`), [{ id: 7 }], 'the table is still there, with its row')
})
