// postgres.js 3.4.9 can throw from a timer when a connection closes under a queued write,
// ending the host process, and hands pipelined queries wrong rows; the copy this package
// bundles carries guards (patches/). The child process dies of that uncaught TypeError before
// "survived" on an unguarded driver, or prints holes and the wrong queries' outcomes.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { testDatabaseUrl } from '../helpers/database.js'
import { spawnScript } from '../helpers/processes.js'

t.test('queries on a connection whose backend died settle instead of crashing the process; pipelined and cancelled queries settle as their own', async (t) => {
  const child = spawnScript(t, 'fixtures/driver_hazard.ts', { URL: await testDatabaseUrl(t) })
  const code = await child.exited
  t.equal(code, 0, `the process exits normally; it printed ${JSON.stringify(child.lines)}`)
  t.same(child.lines.slice(0, 2), ['reserved query 1 rejected CONNECTION_CLOSED', 'reserved query 2 rejected CONNECTION_CLOSED'])
  t.match(child.lines[2], /^transaction rejected /)
  t.same(
    child.lines.slice(3),
    [
      'behind a failure: 5 rows, 0 holes',
      'waiter 1 rejected 57014',
      'waiter 2 rejected 57014',
      'waiter 3 rejected 57014',
      'behind the waiters resolved',
      'left waiting: 0',
      'queries behind a cancelled one that failed: 0 of 10',
      'cancelled while its connection opens rejected 57014',
      'the next query on that connection resolved',
      'a query whose cancel cannot reach the server resolved',
      'survived',
    ],
    'each pipelined query settles with its own reply, every cancelled one stopped in PostgreSQL, and a cancel neither loses a connection nor ends the process',
  )
})

t.test('cancels, ends and lost connections at the edges of a query settle, and leave the pool working', async (t) => {
  const child = spawnScript(t, 'fixtures/driver_lifecycle_hazard.ts', { URL: await testDatabaseUrl(t) })
  const code = await child.exited
  t.equal(code, 0, `the process exits normally; it printed ${JSON.stringify(child.lines)}`)
  t.same(child.lines, [
    'cancelled before it reached the pool: rejected 57014; the next query resolved',
    "cancelled in a transaction's queue: the transaction rejected 57014; the next query resolved",
    'end() after a query was cancelled while its connection opened: resolved',
    'end() while the connection is lost: the statement failed as terminated; end() resolved',
    'end() with a query queued: end() resolved; the queued query rejected CONNECTION_ENDED; the running one resolved; backends left 0',
    'the statement whose backend was terminated failed as terminated; the next one resolved',
    'notifications heard after unlisten(), once listened again: 0',
    'queries cancelled by the cancel of the query before them: 0 of 20',
    'a statement cancelled while it was described rejected 57014',
    'survived',
  ])
})

t.test('the store loads the guarded driver, pinned exactly and bundled into the package', async (t) => {
  const { driverIsGuarded } = await import('../../lib/storage/driver_guard.js')
  t.equal(driverIsGuarded(), true, 'the patch in patches/ was applied (npm test applies it first)')
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>
    bundleDependencies: string[]
    scripts: Record<string, string>
  }
  t.match(manifest.dependencies.postgres, /^\d+\.\d+\.\d+$/, 'no range: a newer release is taken only by changing the pin')
  t.ok(manifest.bundleDependencies.includes('postgres'), 'the guarded copy ships inside the package')
  t.notOk(manifest.scripts.postinstall ?? manifest.scripts.install ?? manifest.scripts.preinstall ?? manifest.scripts.prepare, 'no install script for users to allow')
})

t.test('an unguarded driver is reported to listeners, and on stderr when nobody listens', async (t) => {
  const { warnUnguardedDriver } = await import('../../lib/storage/driver_guard.js')
  const processWarnings: { code?: string }[] = []
  const onWarning = (warning: Error & { code?: string }) => processWarnings.push(warning)
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const reports: string[] = []
  const report = (_level: string, source: string) => void reports.push(source)

  warnUnguardedDriver(true, report)
  warnUnguardedDriver(false, report)
  // process.emitWarning emits on the next tick.
  await new Promise((resolve) => setImmediate(resolve))
  t.same(reports, ['driver', 'driver'], "a driver warning for the store's listeners either way")
  t.match(processWarnings, [{ code: 'PG_EVENTSTORE_DRIVER' }], 'one process warning (stderr): when nobody heard the report')
  t.equal(processWarnings.length, 1)
})
