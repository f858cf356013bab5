// How a user reaches the embedded server they never configured: `info` prints a psql command
// (its password masked unless --show-password), store.config.url names it in code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import t from 'tap'
import { redactUrl } from '../../lib/config.js'
import { acquireEmbeddedServer, stopEmbeddedServer } from '../../lib/embedded/server.js'
import { EventStore } from '../../lib/event_store.js'
import { runCli } from '../helpers/cli.js'

// The CLI's embedded server is .pg-eventstore/ in the directory it runs in.
const cwd = mkdtempSync(join(tmpdir(), 'pg-eventstore-embedded-cli-'))
const dataDir = join(cwd, '.pg-eventstore')
// Held for the whole file: the commands attach to it rather than each starting their own.
const server = await acquireEmbeddedServer({ dataDir, createSystemUser: true })
t.teardown(async () => {
  await server.release()
  await stopEmbeddedServer(dataDir)
  rmSync(cwd, { recursive: true, force: true })
})
const password = readFileSync(join(dataDir, 'password'), 'utf8').trim()

t.test('info prints a psql command for the embedded server, its password masked unless asked', async (t) => {
  const masked = await runCli({ cwd }, 'info')
  t.equal(masked.code, 0, masked.stderr)
  t.match(masked.stdout, `embedded     psql '${redactUrl(server.url)}'`)
  t.match(masked.stdout, /--show-password/)
  t.notOk(masked.stdout.includes(password), 'no password')
  const shown = await runCli({ cwd }, 'info', '--show-password')
  t.equal(shown.code, 0, shown.stderr)
  t.match(shown.stdout, `embedded     psql '${server.url}'`)
  const sql = postgres(server.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  t.same(await sql`SELECT 1 AS reached`, [{ reached: 1 }], 'the URL shown reaches the server')
})

t.test('store.config.url is the embedded server\'s URL, its password masked', async (t) => {
  const config = { embedded: { dataDir, createSystemUser: true }, workers: 1, poolSize: 2, openTelemetry: false }
  await EventStore.init(config)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  t.equal(store.config.url, redactUrl(server.url))
  t.match(store.config.url, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres$/)
})
