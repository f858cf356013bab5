// The life of a store's schema: create the database, init, migrate, drop, info, and the
// version check every start runs (= commanded's Storage.Initializer and tasks).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { type EventStoreError, SchemaError } from '../errors.js'
import { sqlDir } from '../package_files.js'
import type { Sql } from './database.js'
import type { ColumnDataType } from '../serializer.js'
import { toEventStoreError } from './pg_errors.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrations: readonly Migration[] = readdirSync(join(sqlDir, 'migrations'))
  .filter((file) => /^\d{4}_\w+\.sql$/.test(file))
  .sort()
  .map((file) => ({
    version: Number(file.slice(0, 4)),
    name: file.slice(5, -4),
    sql: readFileSync(join(sqlDir, 'migrations', file), 'utf8'),
  }))

export const latestVersion = migrations.at(-1)?.version ?? 0

const readSql = (file: string) => readFileSync(join(sqlDir, file), 'utf8')

/** Serialises schema changes of one schema across processes (two deploys migrating at once). */
async function lockSchema(tx: postgres.TransactionSql<Record<string, never>>, schema: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtext(${`pg-eventstore:schema:${schema}`}))`
}

/** The schema's applied version: 0 when nothing was applied, null when it has no store at all. */
export async function schemaVersion(sql: Sql, schema: string): Promise<number> {
  const [row] = await sql<{ exists: boolean }[]>`
    SELECT to_regclass(${`"${schema}".schema_migrations`}) IS NOT NULL AS exists`
  if (!row?.exists) return 0
  const [current] = await sql.unsafe<{ version: number | null }[]>(`SELECT max(version) AS version FROM "${schema}".schema_migrations`)
  return current?.version ?? 0
}

/** Fails with a SchemaError naming the command to run unless the schema is at the latest version. */
export async function checkSchema(sql: Sql, schema: string): Promise<void> {
  let version: number
  try {
    version = await schemaVersion(sql, schema)
  } catch (error) {
    throw toEventStoreError(error, schema)
  }
  if (version === latestVersion) return
  const command = version === 0 ? 'pg-eventstore init' : 'pg-eventstore migrate'
  const suffix = schema === 'public' ? '' : ` --schema ${schema}`
  throw new SchemaError(
    version > latestVersion
      ? `schema "${schema}" is at version ${version}, newer than this pg-eventstore (${latestVersion}); upgrade the package`
      : `schema "${schema}" is at version ${version}, expected ${latestVersion}; run: ${command}${suffix}`,
    { schema, version, expected: latestVersion },
  )
}

/**
 * Applies every migration above the schema's version, in one transaction; returns those
 * applied. `bytea` turns a new store's data columns into bytea (sql/bytea_columns.sql).
 */
export async function migrate(sql: Sql, schema: string, upTo = latestVersion, column: ColumnDataType = 'jsonb'): Promise<Migration[]> {
  try {
    return await applyMigrations(sql, schema, upTo, column)
  } catch (error) {
    throw schemaClash(error, schema) ?? error
  }
}

/**
 * A migration's CREATE met a relation of the same name: it was made by someone else (ours are
 * recorded in schema_migrations), so the store needs a schema of its own.
 */
function schemaClash(error: unknown, schema: string): EventStoreError | null {
  if (!(error instanceof postgres.PostgresError) || error.code !== '42P07') return null
  return new SchemaError(
    `schema "${schema}" already holds a table or index pg-eventstore would create (${error.message}); give the store a schema of its own: pg-eventstore init --schema NAME (schema: 'NAME' in code)`,
    { schema, sqlstate: error.code },
    { cause: error },
  )
}

async function applyMigrations(sql: Sql, schema: string, upTo: number, column: ColumnDataType): Promise<Migration[]> {
  return (await sql.begin(async (tx) => {
    await lockSchema(tx, schema)
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await tx.unsafe(`SET LOCAL search_path TO "${schema}"`)
    await tx.unsafe(readSql('schema_migrations.sql'))
    const [row] = await tx.unsafe<{ version: number | null }[]>('SELECT max(version) AS version FROM schema_migrations')
    const current = row?.version ?? 0
    const pending = migrations.filter((m) => m.version > current && m.version <= upTo)
    for (const migration of pending) {
      await tx.unsafe(migration.sql)
      await tx.unsafe('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
    }
    if (column === 'bytea' && current === 0 && upTo === latestVersion) await tx.unsafe(readSql('bytea_columns.sql'))
    return pending
  })) as Migration[]
}

/** Makes a fresh store in the schema; refuses when one is already there. */
export async function init(sql: Sql, schema: string, column: ColumnDataType = 'jsonb'): Promise<Migration[]> {
  const version = await schemaVersion(sql, schema)
  if (version > 0) {
    throw new SchemaError(`schema "${schema}" is already initialised (version ${version}); use pg-eventstore migrate or reset`, {
      schema,
      version,
    })
  }
  return migrate(sql, schema, latestVersion, column)
}

/** The column type the schema was made with; a SchemaError when the config asks for the other. */
export async function columnDataType(sql: Sql, schema: string, wanted: ColumnDataType | null): Promise<ColumnDataType> {
  const [row] = await sql.unsafe<{ data_type: string }[]>(sql.statements.column_data_type, [schema])
  const stored: ColumnDataType = row?.data_type === 'bytea' ? 'bytea' : 'jsonb'
  if (wanted !== null && wanted !== stored) {
    throw new SchemaError(`schema "${schema}" stores event data as ${stored}, but columnDataType is '${wanted}'; leave it out or make a new store with pg-eventstore init`, {
      schema,
      stored,
      wanted,
    })
  }
  return stored
}

/** Removes the store's objects from the schema, and the schema itself when nothing else is in it. */
export async function drop(sql: Sql, schema: string): Promise<void> {
  await sql.begin(async (tx) => {
    await lockSchema(tx, schema)
    const [row] = await tx<{ exists: boolean }[]>`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ${schema}) AS exists`
    if (!row?.exists) return
    const tables = await tx<{ name: string }[]>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') AND c.relname IN ('schema_migrations', 'events', 'streams', 'links', 'subscriptions', 'snapshots')`
    // Without the store's migrations table, tables of those names are someone else's.
    if (!tables.some((table) => table.name === 'schema_migrations')) {
      if (tables.length === 0) return
      throw new SchemaError(
        `schema "${schema}" is not a pg-eventstore store (it has no schema_migrations table) but holds ${tables.map((t) => t.name).join(', ')}: nothing was dropped; check --schema`,
        { schema },
      )
    }
    await tx.unsafe(`SET LOCAL search_path TO "${schema}"`)
    await tx.unsafe(readSql('drop.sql'))
    if (schema !== 'public') {
      const [left] = await tx<{ count: number }[]>`
        SELECT count(*)::int AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema}`
      if (left?.count === 0) await tx.unsafe(`DROP SCHEMA "${schema}"`)
    }
  })
}

export interface SchemaInfo {
  schema: string
  version: number
  latestVersion: number
  streams: number
  events: number
  lastPosition: number
  serverVersion: string
}

export async function info(sql: Sql, schema: string): Promise<SchemaInfo> {
  const version = await schemaVersion(sql, schema)
  const [server] = await sql<{ server_version: string }[]>`SHOW server_version`
  let counts = { streams: 0, events: 0, lastPosition: 0 }
  if (version > 0) {
    const [row] = await sql.unsafe<typeof counts[]>(`
      SELECT (SELECT count(*) FROM "${schema}".streams WHERE stream_id > 0)::int AS streams,
             (SELECT count(*) FROM "${schema}".events)::bigint AS events,
             (SELECT stream_version FROM "${schema}".streams WHERE stream_id = 0) AS "lastPosition"`)
    if (row) counts = row
  }
  return { schema, version, latestVersion, ...counts, serverVersion: server?.server_version ?? 'unknown' }
}

/** Creates the schema when it is missing, for a store to be made in it (init). */
export async function createSchema(sql: Sql, schema: string): Promise<void> {
  await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
}

/** Creates the database named in `url` when it is missing (connects to `postgres` to do it). */
export async function createDatabase(url: string): Promise<{ database: string; created: boolean }> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres'
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${database}) AS exists`
    if (row?.exists) return { database, created: false }
    await sql.unsafe(`CREATE DATABASE "${database.replaceAll('"', '""')}"`)
    return { database, created: true }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * Grants `role` what running the store needs and no more (sql/grant_app_role.sql): run by the
 * owner after init or migrate. `hardDeletes` adds DELETE for enableHardDeletes.
 */
export async function grantAppRole(sql: Sql, schema: string, role: string, hardDeletes: boolean): Promise<void> {
  const text = readSql('grant_app_role.sql') + (hardDeletes ? readSql('grant_hard_deletes.sql') : '')
  const quoted = text.replaceAll('app_role', `"${role}"`).replaceAll('app_schema', `"${schema}"`)
  await sql.begin(async (tx) => {
    await lockSchema(tx, schema)
    await tx.unsafe(`SET LOCAL search_path TO "${schema}"`)
    await tx.unsafe(quoted)
  })
}
