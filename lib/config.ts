// EventStoreConfig → the resolved settings every part of the store reads.
import { availableParallelism } from 'node:os'
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'

export interface EmbeddedConfig {
  /** Where the embedded server keeps its files; default `.pg-eventstore/`. */
  dataDir?: string
  /** TCP port for a newly started server; default: a free one. */
  port?: number
}

export interface EventStoreConfig {
  /** PostgreSQL connection string; default `process.env.DATABASE_URL`. */
  url?: string
  /** Start a bundled PostgreSQL server; the default when there is no url and no DATABASE_URL. */
  embedded?: EmbeddedConfig | boolean
  /** PostgreSQL schema holding the store's tables; default `public`. */
  schema?: string
  /** Connections of the main thread's pool; default 10. */
  poolSize?: number
  /** Threads of the reader/subscription worker pool; default: the number of CPUs. */
  workers?: number
  /** Allow `deleteStream(..., 'hard')`; default false. */
  enableHardDeletes?: boolean
}

export interface ResolvedConfig {
  url: string | null
  embedded: Required<Pick<EmbeddedConfig, 'dataDir'>> & { port: number | undefined }
  schema: string
  poolSize: number
  workers: number
  enableHardDeletes: boolean
}

/** Identifiers we interpolate into DDL; anything else is refused rather than quoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function checkSchemaName(value: unknown): string {
  if (typeof value === 'string' && SCHEMA_NAME.test(value) && !value.startsWith('pg_')) return value
  throw new InvalidArgumentError(
    `schema must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63; not starting with pg_); got ${describe(value)}`,
    { argument: 'schema' },
  )
}

function positiveInteger(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  throw new InvalidArgumentError(`${what} must be a positive integer; got ${describe(value)}`, { argument: what })
}

export function resolveConfig(config: EventStoreConfig = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidArgumentError(`config must be an object; got ${describe(config)}`, { argument: 'config' })
  }
  const url = config.url ?? (config.embedded ? undefined : env.DATABASE_URL || undefined) ?? null
  if (url !== null && (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url))) {
    throw new InvalidArgumentError(`url must be a postgres:// connection string; got ${describe(url)}`, { argument: 'url' })
  }
  const embedded = typeof config.embedded === 'object' && config.embedded !== null ? config.embedded : {}
  if (embedded.port !== undefined) positiveInteger(embedded.port, 0, 'embedded.port')
  return {
    url,
    embedded: { dataDir: embedded.dataDir ?? '.pg-eventstore', port: embedded.port },
    schema: checkSchemaName(config.schema ?? 'public'),
    poolSize: positiveInteger(config.poolSize, 10, 'poolSize'),
    workers: positiveInteger(config.workers, availableParallelism(), 'workers'),
    enableHardDeletes: config.enableHardDeletes === true,
  }
}
