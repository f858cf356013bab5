// The one place that reads SQLSTATEs and driver error codes: a database error becomes an
// EventStoreError with a stable code (= commanded appender.ex's error handling).
import { errorFor, EventStoreError } from '../errors.js'

interface DriverError {
  code?: string
  message?: string
  constraint_name?: string
}

const connectionCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
])

export function toEventStoreError(error: unknown, schema: string): EventStoreError {
  if (error instanceof EventStoreError) return error
  const { code = '', message = String(error) } = (error ?? {}) as DriverError
  if (code === '42P01' || code === '3F000' || code === '42883') {
    return errorFor('schema', `schema "${schema}" is not initialised (${message}); run: pg-eventstore init --schema ${schema}`, { schema }, error)
  }
  if (code === '23505') return errorFor('duplicate_event', `duplicate event: ${message}`, undefined, error)
  if (code === '57014') return errorFor('timeout', `statement cancelled: ${message}`, undefined, error)
  if (code === 'ES001' || code.startsWith('22')) return errorFor('invalid_argument', message, undefined, error)
  if (connectionCodes.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53')) {
    return errorFor('connection', `cannot reach PostgreSQL: ${message}`, { code }, error)
  }
  return errorFor('connection', `PostgreSQL error ${code || ''}: ${message}`.replace('  ', ' '), { code }, error)
}

/**
 * True for an error the server raised inside a transaction, which it then rolled back.
 * A lost connection is not one: the commit may have landed, so retrying could write twice.
 */
export function isRolledBack(error: unknown): boolean {
  const code = (error as DriverError | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P|53)/.test(code)
}
