// Per test file: a fresh schema in the run's database, initialised, dropped at the end.
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import postgres from 'postgres'
import type { Test } from 'tap'
import type { EventStoreConfig } from '../../lib/config.js'
import { acquireEmbeddedServer } from '../../lib/embedded/server.js'
import { EventStore } from '../../lib/event_store.js'
import { testDataDir } from './server.js'

/** The run's database URL; attaches this process to the embedded server when there is no DATABASE_URL. */
export async function testDatabaseUrl(t: Test): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL
  const server = await acquireEmbeddedServer({ dataDir: testDataDir, createSystemUser: true })
  t.teardown(() => server.release())
  return server.url
}

export function uniqueSchema(t: Test): string {
  const name = basename(t.name ?? 'test').replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase()
  return `t_${name.slice(0, 24)}_${randomBytes(3).toString("hex")}`
}

/** A config for a fresh, initialised schema that is dropped when the test ends. */
export async function freshStoreConfig(t: Test, overrides: EventStoreConfig = {}): Promise<EventStoreConfig & { url: string; schema: string }> {
  const url = await testDatabaseUrl(t)
  const config = { url, schema: uniqueSchema(t), workers: 1, poolSize: 4, ...overrides }
  await EventStore.init(config)
  t.teardown(() => dropTestSchema(config))
  return config
}

/**
 * Drops the store's tables, then the schema with whatever a test made in it beside them (a
 * projection's read model): drop() alone keeps a schema that holds anything of the user's.
 */
async function dropTestSchema(config: { url: string; schema: string }): Promise<void> {
  await EventStore.drop(config)
  const sql = postgres(config.url, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`)
  } finally {
    await sql.end()
  }
}

/** A started store on a fresh schema, stopped when the test ends. */
export async function startStore(t: Test, overrides: EventStoreConfig = {}): Promise<EventStore> {
  const config = await freshStoreConfig(t, overrides)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  return store
}
