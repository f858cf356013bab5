import t from 'tap'
import { checkSchemaName, redactUrl, resolveConfig } from '../../lib/config.js'
import { EventStore } from '../../lib/event_store.js'

t.test('defaults', async (t) => {
  const config = resolveConfig({}, {})
  t.match(config, { url: null, sessionUrl: null, prepare: true, schema: 'public', poolSize: 6, maxConnections: 20, enableHardDeletes: false, embedded: { dataDir: '.pg-eventstore' } })
  t.ok(config.workers >= 1)
})

t.test('sessionUrl and prepare', async (t) => {
  t.match(resolveConfig({ url: 'postgres://pooler:6432/db', sessionUrl: 'postgres://server:5432/db', prepare: false }, {}), { sessionUrl: 'postgres://server:5432/db', prepare: false })
  t.throws(() => resolveConfig({ sessionUrl: 'mysql://x' }, {}), { code: 'invalid_argument', details: { argument: 'sessionUrl' } })
  t.throws(() => resolveConfig({ prepare: 'no' as never }, {}), { code: 'invalid_argument', details: { argument: 'prepare' } })
})

t.test('maxConnections is shared out among every kind of connection; what the pools leave is the projections\'', async (t) => {
  const sum = ({ store, writer, workers, lockSession, listener, projections }: ReturnType<typeof resolveConfig>['budget']) => store + writer + workers + lockSession + listener + projections
  const defaults = resolveConfig({}, {})
  t.equal(sum(defaults.budget), 20, 'by default 20 in all')
  t.ok(defaults.budget.projections >= 2, 'with room for projections, however many CPUs')
  t.match(resolveConfig({ poolSize: 4, workers: 2, maxConnections: 12 }, {}).budget, { max: 12, store: 4, writer: 1, workers: 4, connectionsPerWorker: 2, lockSession: 1, listener: 1, projections: 1 })
  t.match(resolveConfig({ poolSize: 10, workers: 1 }, {}).budget, { store: 10, workers: 10 }, 'an explicit poolSize beyond the default budget widens it')
  t.equal(resolveConfig({ poolSize: 10, workers: 1 }, {}).maxConnections, 25)
  t.throws(() => resolveConfig({ poolSize: 10, workers: 1, maxConnections: 20 }, {}), { code: 'invalid_argument', details: { argument: 'maxConnections' } }, 'an explicit budget too small is refused')
  t.equal(resolveConfig({ maxConnections: 9 }, {}).workers, 1, 'default workers as many as the budget holds')
})

t.test('DATABASE_URL is used unless a url or embedded is given', async (t) => {
  const env = { DATABASE_URL: 'postgres://env/db' }
  t.equal(resolveConfig({}, env).url, 'postgres://env/db')
  t.equal(resolveConfig({ url: 'postgresql://given/db' }, env).url, 'postgresql://given/db')
  t.equal(resolveConfig({ embedded: { dataDir: '/tmp/x' } }, env).url, null)
})

t.test('hostile or malformed settings are refused', async (t) => {
  for (const schema of ['', 'Public', 'a-b', 'x"; DROP TABLE events; --', 'pg_catalog', 'a'.repeat(64), 'évent', 42]) {
    t.throws(() => checkSchemaName(schema), { code: 'invalid_argument' }, `schema ${String(schema)}`)
  }
  t.throws(() => resolveConfig({ url: 'mysql://x' }, {}), { code: 'invalid_argument' })
  t.throws(() => resolveConfig({ poolSize: 0 }, {}), { code: 'invalid_argument' })
  t.throws(() => resolveConfig({ workers: 1.5 }, {}), { code: 'invalid_argument' })
})

t.test('secrets: a malformed url is not echoed; redactUrl hides the password; connection errors carry none', async (t) => {
  const error = (() => {
    try {
      resolveConfig({ url: 'postgres://app:s3cret-pw@host:notaport/db' }, {})
    } catch (caught) {
      return caught as Error
    }
    return null
  })()
  t.match(error, { code: 'invalid_argument' })
  t.notMatch(error?.message, /s3cret-pw/, 'the malformed url is not in the message')
  t.equal(redactUrl('postgres://app:s3cret-pw@host:5432/db'), 'postgres://app:***@host:5432/db')
  t.equal(redactUrl('postgres://host/db'), 'postgres://host/db')
  const refused = await EventStore.start({ url: 'postgres://app:s3cret-pw@127.0.0.1:1/db', connectTimeout: 1000 }).catch((e: Error) => e)
  t.match(refused, { code: 'connection' })
  t.notMatch(`${(refused as Error).message} ${JSON.stringify(refused)}`, /s3cret-pw/, 'no password in a connection error')
})

t.test('reliability settings: defaults and checks', async (t) => {
  const config = resolveConfig({}, {})
  t.match(config, { maxQueuedWrites: 10_000, maxReadCount: 10_000, outcomeTimeout: 15_000, connection: { connectTimeout: 5000, maxReconnectDelay: 500 }, logger: null })
  t.throws(() => resolveConfig({ maxQueuedWrites: 0 }, {}), { code: 'invalid_argument' })
  t.throws(() => resolveConfig({ maxReadCount: 1.5 }, {}), { code: 'invalid_argument', details: { argument: 'maxReadCount' } })
  t.throws(() => resolveConfig({ maxReconnectDelay: -1 }, {}), { code: 'invalid_argument' })
  t.throws(() => resolveConfig({ logger: { warn: () => {} } as never }, {}), { code: 'invalid_argument', message: /logger/ })
})
