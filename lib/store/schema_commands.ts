// The schema commands (pg-eventstore init, migrate, grant, drop), each on a short-lived
// connection to the store's database: they run before or without a started store.
import { checkRoleName, type EventStoreConfig } from '../config.js'
import * as schemaLife from '../storage/schema.js'
import { withDatabase } from './startup.js'

export async function initSchema(config: EventStoreConfig): Promise<void> {
  await withDatabase(config, (sql, resolved) => schemaLife.init(sql, resolved.schema, resolved.columnDataType ?? 'jsonb').then(() => undefined))
}

/** The versions applied. */
export function migrateSchema(config: EventStoreConfig): Promise<number[]> {
  return withDatabase(config, async (sql, resolved) => (await schemaLife.migrate(sql, resolved.schema)).map((m) => m.version))
}

export async function grantRole(config: EventStoreConfig, role: string, hardDeletes: boolean): Promise<void> {
  const name = checkRoleName(role)
  await withDatabase(config, (sql, resolved) => schemaLife.grantAppRole(sql, resolved.schema, name, hardDeletes))
}

export async function dropSchema(config: EventStoreConfig): Promise<void> {
  await withDatabase(config, (sql, resolved) => schemaLife.drop(sql, resolved.schema))
}
