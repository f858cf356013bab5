import t from 'tap'
import { checkSchemaName, resolveConfig } from '../../lib/config.js'

t.test('defaults', async (t) => {
  const config = resolveConfig({}, {})
  t.match(config, { url: null, schema: 'public', poolSize: 10, enableHardDeletes: false, embedded: { dataDir: '.pg-eventstore' } })
  t.ok(config.workers >= 1)
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
