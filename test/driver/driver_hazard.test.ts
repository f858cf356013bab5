// The patched postgres.js (patches/postgres+3.4.9.patch) survives porsager/postgres#1208.
// Without the patch the child process dies of an uncaught TypeError before "survived".
import t from 'tap'
import { testDatabaseUrl } from '../helpers/database.js'
import { spawnScript } from '../helpers/processes.js'

t.test('queries on a connection whose backend died settle instead of crashing the process', async (t) => {
  const child = spawnScript(t, 'fixtures/driver_hazard.ts', { URL: await testDatabaseUrl(t) })
  const code = await child.exited
  t.equal(code, 0, `the process exits normally; it printed ${JSON.stringify(child.lines)}`)
  t.match(child.lines, ['reserved query 1 rejected CONNECTION_CLOSED', 'reserved query 2 rejected CONNECTION_CLOSED', /^transaction rejected /, 'survived'])
})

t.test('the store sees that the driver it loads carries the guard', async (t) => {
  const { driverIsGuarded } = await import('../../lib/storage/driver_guard.js')
  t.equal(driverIsGuarded(), true, 'patches/postgres+3.4.9.patch was applied on install')
})
