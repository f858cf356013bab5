// What a user's service gets from `npm install pg-eventstore`: the packed tarball installed into
// an empty project, then used from there (the driver it resolves, the store, the types).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { testDatabaseUrl, uniqueSchema } from '../helpers/database.js'

const run = promisify(execFile)
const repo = fileURLToPath(new URL('../..', import.meta.url))
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc')

/** Where Node finds package `name` from directory `from`: the nearest node_modules/name above it. */
function resolvePackage(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return join(dir, 'node_modules', name)
    if (dirname(dir) === dir) throw new Error(`${name} is not installed above ${from}`)
  }
}

/** Runs a command; resolves with its output whatever its exit code, so a failure shows what it printed. */
async function sh(file: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

t.test('the packed package, installed into an empty project, brings a guarded driver and works', async (t) => {
  const project = await mkdtemp(join(tmpdir(), 'pg-eventstore-consumer-'))
  t.teardown(() => rm(project, { recursive: true, force: true }))

  const pack = await sh('npm', ['pack', '--json', '--pack-destination', project], repo)
  t.equal(pack.code, 0, pack.stderr)
  const [{ filename, files }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }]
  const shipped = new Set(files.map((f) => f.path))
  t.ok(shipped.has('LICENSE') && shipped.has('dist/lib/index.d.ts') && [...shipped].some((path) => path.startsWith('sql/migrations/')), 'the tarball holds the license, types and SQL')
  t.notOk([...shipped].some((path) => path.startsWith('patches/')), 'no patch for the user to apply')
  t.ok(shipped.has('benchmarks/run.js'), 'the benchmark suite `pg-eventstore bench` runs')
  t.notOk([...shipped].some((path) => path.startsWith('benchmarks/') && path.endsWith('.ts')), "no repository-only benchmark (they import the repository's tests)")

  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }))
  const install = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, filename)], project)
  t.equal(install.code, 0, install.stderr)
  t.notMatch(install.stderr, /install-scripts|postinstall|patch-package/, 'installing runs no script of ours')

  const installed = JSON.parse(await readFile(join(project, 'node_modules', 'pg-eventstore', 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
    scripts?: Record<string, string>
    engines?: Record<string, string>
  }
  t.notOk(installed.scripts?.postinstall ?? installed.scripts?.install, 'the published package has no install script')
  t.ok(installed.engines?.node, 'the Node versions it supports are declared')
  const driverDir = resolvePackage(join(project, 'node_modules', 'pg-eventstore'), 'postgres')
  t.equal(driverDir, join(project, 'node_modules', 'pg-eventstore', 'node_modules', 'postgres'), 'the driver is the copy bundled inside the package')
  const driver = JSON.parse(await readFile(join(driverDir, 'package.json'), 'utf8')) as { version: string }
  t.equal(driver.version, installed.dependencies.postgres, 'the user gets exactly the pinned driver')

  // The reproduction runs beside the installed package, so `postgres` resolves as the package's own import does.
  const url = await testDatabaseUrl(t)
  const hazard = join(project, 'node_modules', 'pg-eventstore', 'driver_hazard.ts')
  for (const fixture of ['driver_hazard.ts', 'driver_lifecycle_hazard.ts', 'driver_probes.ts']) {
    await cp(join(repo, 'test', 'fixtures', fixture), join(project, 'node_modules', 'pg-eventstore', fixture))
  }
  const reproduction = await sh(process.execPath, ['--import', 'tsx', hazard], repo, { URL: url })
  t.equal(reproduction.code, 0, `the driver survives connections whose backends die: ${reproduction.stdout} ${reproduction.stderr}`)
  t.match(reproduction.stdout, /survived\n$/)
  t.match(reproduction.stdout, /behind a failure: 5 rows, 0 holes\n/, 'a pipelined query behind a failed one gets its own rows')
  t.match(reproduction.stdout, /behind the waiters resolved\nleft waiting: 0\nqueries behind a cancelled one that failed: 0 of 10\n/, 'cancelling pipelined queries cancels each, and only them')
  t.match(reproduction.stdout, /the next query on that connection resolved\n/, 'a query cancelled while its connection opened leaves that connection to the next')
  const lifecycle = join(project, 'node_modules', 'pg-eventstore', 'driver_lifecycle_hazard.ts')
  const edges = await sh(process.execPath, ['--import', 'tsx', lifecycle], repo, { URL: url })
  t.equal(edges.code, 0, `cancels, ends and lost connections: ${edges.stdout} ${edges.stderr}`)
  t.notMatch(edges.stdout, /pending after|backends left [1-9]|heard after unlisten\(\), once listened again: [1-9]|before them: [1-9]|described resolved/, 'none of them hangs, leaks a connection or keeps a listener')
  t.match(edges.stdout, /survived\n$/)

  // A user's service: strict TypeScript against the published types, then run.
  const schema = uniqueSchema(t)
  await writeFile(
    join(project, 'service.ts'),
    `import { EventStore, type RecordedEvent } from 'pg-eventstore'
const config = { url: process.env.URL as string, schema: process.env.SCHEMA as string, workers: 1 }
await EventStore.init(config)
const store = await EventStore.start(config)
try {
  await store.appendToStream('order-1', 0, [{ eventType: 'OrderPlaced', data: { total: 42 } }])
  const events: RecordedEvent[] = await store.readStreamForward('order-1')
  console.log(JSON.stringify(events.map((e) => [e.streamId, e.streamVersion, e.eventType, e.data])))
} finally {
  await store.stop()
  await EventStore.drop(config)
}
`,
  )
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', typeRoots: [join(repo, 'node_modules', '@types')], types: ['node'] },
      files: ['service.ts'],
    }),
  )
  const compiled = await sh(process.execPath, [tsc, '-p', project], project)
  t.equal(compiled.code, 0, `the published types compile under strict: ${compiled.stdout}`)

  const service = await sh(process.execPath, [join('out', 'service.js')], project, { URL: url, SCHEMA: schema })
  t.equal(service.code, 0, service.stderr)
  t.equal(service.stdout.trim(), JSON.stringify([['order-1', 1, 'OrderPlaced', { total: 42 }]]), 'the installed store appends and reads')
})
