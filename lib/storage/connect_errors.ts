// Why connecting to PostgreSQL failed, said so that a new user knows what to do: a wrong
// password, an unknown role, a missing database, a server that is not there. Only where a
// store or a command first connects (EventStore.start, withDatabase): there the URL is known,
// so the message can name its host, user and database. Never its password.
import postgres from 'postgres'
import { ConnectionError, EventStoreError } from '../errors.js'

/** Socket and driver codes of a server that could not be reached. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'CONNECT_TIMEOUT'])
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN'])

const IN_URL = 'in the URL (--url or DATABASE_URL)'

/** The parts of a connection string a message may show. */
function target(url: string): { host: string; port: number; user: string; database: string } {
  const parsed = new URL(url)
  const user = decodeURIComponent(parsed.username)
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user,
    // postgres.js, like libpq, connects to the database named after the user when none is given.
    database: decodeURIComponent(parsed.pathname.slice(1)) || user,
  }
}

/**
 * A ConnectionError saying what to do when `error` (the driver's, or an EventStoreError
 * wrapping it) is a failure to connect to `url`; null for anything else.
 */
export function connectFailure(error: unknown, url: string): EventStoreError | null {
  const cause = error instanceof EventStoreError ? error.cause : error
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return null
  const where = target(url)
  const at = `PostgreSQL at ${where.host}:${where.port}`
  const fromServer = cause instanceof postgres.PostgresError
  const details = { ...where, ...(fromServer ? { sqlstate: code } : { code }) }
  const fail = (message: string) => new ConnectionError(message, details, { cause })
  if (fromServer && code === '28P01') return fail(`${at} refused the password of user "${where.user}": check the user and password ${IN_URL}`)
  // 28000: no such role, or no pg_hba.conf line lets it in; the server's words say which.
  if (fromServer && code.startsWith('28')) return fail(`${at} refused the connection (${(cause as Error).message}): check the user ${IN_URL}, or create that role`)
  if (fromServer && code === '3D000') return fail(`${at} has no database "${where.database}": run \`pg-eventstore create\` with the same URL to create it`)
  if (UNKNOWN_HOST.has(code)) return fail(`cannot find the host "${where.host}" (${code}): check the host ${IN_URL}`)
  if (UNREACHABLE.has(code)) return fail(`cannot reach ${at} (${code}): is the server running? Check the host and port ${IN_URL}`)
  return null
}
