// The one place that reads SQLSTATEs and driver error codes: a database error becomes an
// EventStoreError with a stable code (= commanded appender.ex's error handling), and a failed
// write is judged rolled back or of unknown outcome.
import postgres from 'postgres'
import { errorFor, EventStoreError } from '../errors.js'

interface DriverError {
  code?: string
  message?: string
  severity?: string
}

/** The driver's own codes for a connection that failed or went away. */
const connectionCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
])

/** SQLSTATE classes of a server that is going away or cannot take the connection. */
const LOST_SERVER = /^(08|57P|53)/

/** A connection that failed or went away, whether or not a request had reached the server. */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as DriverError | null)?.code
  return typeof code === 'string' && (connectionCodes.has(code) || LOST_SERVER.test(code))
}

export function toEventStoreError(error: unknown, schema: string): EventStoreError {
  if (error instanceof EventStoreError) return error
  const { code = '', message = String(error) } = (error ?? {}) as DriverError
  if (code === '42P01' || code === '3F000' || code === '42883') {
    return errorFor('schema', `schema "${schema}" is not initialised (${message}); run: pg-eventstore init --schema ${schema}`, { schema }, error)
  }
  if (code === '23505') return errorFor('duplicate_event', `duplicate event: ${message}`, undefined, error)
  if (code === '57014') return errorFor('timeout', `statement cancelled: ${message}`, undefined, error)
  // Data exceptions, program limits (a value too large for an index) and our own refusals.
  if (code === 'ES001' || code.startsWith('22') || code.startsWith('54')) return errorFor('invalid_argument', message, { sqlstate: code }, error)
  if (isConnectionLoss(error)) {
    return errorFor('connection', `cannot reach PostgreSQL: ${message}`, { code }, error)
  }
  const sqlstate = error instanceof postgres.PostgresError ? code : null
  return errorFor('server', `unexpected ${sqlstate ? `PostgreSQL error ${sqlstate}` : 'error'}: ${message}`, { sqlstate, code: code || null }, error)
}

/**
 * True only for an error the server reported as an ERROR of the statement: PostgreSQL rolled
 * its transaction back. Anything else (a lost connection, a FATAL sent as the server shut
 * down, a driver failure) leaves it unknown whether a COMMIT already sent landed.
 */
export function isRolledBack(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError)) return false
  return error.severity === 'ERROR' && !LOST_SERVER.test(error.code)
}

/** Errors of a connection that was never made: the request never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'CONNECT_TIMEOUT', 'CONNECTION_ENDED', '57P03', '53300'])

/** True when the failed request certainly never reached PostgreSQL, so nothing of it was written. */
export function isNeverSent(error: unknown): boolean {
  const code = (error as DriverError | null)?.code
  return typeof code === 'string' && (NEVER_SENT.has(code) || code.startsWith('28') || code === '3D000')
}
