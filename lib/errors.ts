// Every error the store raises: one class per stable `code` (README, Errors).
// `toWire`/`fromWire` carry them across worker threads, where a plain structured clone
// would keep only message and stack.

export type ErrorCode =
  | 'wrong_expected_version'
  | 'stream_exists'
  | 'stream_not_found'
  | 'stream_deleted'
  | 'duplicate_event'
  | 'subscription_already_exists'
  | 'subscription_not_found'
  | 'snapshot_not_found'
  | 'invalid_argument'
  | 'schema'
  | 'connection'
  | 'timeout'
  | 'aborted'
  | 'overloaded'
  | 'server'

export type ErrorDetails = Record<string, unknown>

/** Base class of every error pg-eventstore raises; `code` is stable, `message` is for people. */
export class EventStoreError extends Error {
  readonly code: ErrorCode
  readonly details: ErrorDetails | undefined

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EventStoreError'
    this.code = code
    this.details = details
  }
}

function defineError(code: ErrorCode, name: string) {
  const ErrorClass = class extends EventStoreError {
    constructor(message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
      super(code, message, details, options)
      this.name = name
    }
  }
  Object.defineProperty(ErrorClass, 'name', { value: name })
  return ErrorClass
}

/** The stream's version is not the one the append expected. */
export const WrongExpectedVersionError = defineError('wrong_expected_version', 'WrongExpectedVersionError')
/** `'no_stream'` was expected but the stream exists. */
export const StreamExistsError = defineError('stream_exists', 'StreamExistsError')
/** The stream does not exist (reads, `'stream_exists'` appends, links to unknown events). */
export const StreamNotFoundError = defineError('stream_not_found', 'StreamNotFoundError')
/** The stream was soft-deleted: it can no longer be read or appended to. */
export const StreamDeletedError = defineError('stream_deleted', 'StreamDeletedError')
/** An event id is already stored, or an event is already in the target stream. */
export const DuplicateEventError = defineError('duplicate_event', 'DuplicateEventError')
export const SubscriptionAlreadyExistsError = defineError('subscription_already_exists', 'SubscriptionAlreadyExistsError')
export const SubscriptionNotFoundError = defineError('subscription_not_found', 'SubscriptionNotFoundError')
export const SnapshotNotFoundError = defineError('snapshot_not_found', 'SnapshotNotFoundError')
/** Bad input, rejected before anything was written. */
export const InvalidArgumentError = defineError('invalid_argument', 'InvalidArgumentError')
/** The database schema is missing or at another version; the message names the command to run. */
export const SchemaError = defineError('schema', 'SchemaError')
/** The database could not be reached, or a worker or connection went away mid-call. */
export const ConnectionError = defineError('connection', 'ConnectionError')
export const TimeoutError = defineError('timeout', 'TimeoutError')
export const AbortedError = defineError('aborted', 'AbortedError')
/** The writer's queue is at its bound (`maxQueuedWrites`); nothing was written. Retry later. */
export const OverloadedError = defineError('overloaded', 'OverloadedError')
/** PostgreSQL raised an error nobody expected; `details.sqlstate` says which. */
export const ServerError = defineError('server', 'ServerError')

const classByCode: Record<ErrorCode, typeof WrongExpectedVersionError> = {
  wrong_expected_version: WrongExpectedVersionError,
  stream_exists: StreamExistsError,
  stream_not_found: StreamNotFoundError,
  stream_deleted: StreamDeletedError,
  duplicate_event: DuplicateEventError,
  subscription_already_exists: SubscriptionAlreadyExistsError,
  subscription_not_found: SubscriptionNotFoundError,
  snapshot_not_found: SnapshotNotFoundError,
  invalid_argument: InvalidArgumentError,
  schema: SchemaError,
  connection: ConnectionError,
  timeout: TimeoutError,
  aborted: AbortedError,
  overloaded: OverloadedError,
  server: ServerError,
}

/** Builds the error class of `code`, so callers can `instanceof` the specific class. */
export function errorFor(code: ErrorCode, message: string, details?: ErrorDetails, cause?: unknown): EventStoreError {
  return new classByCode[code](message, details, cause === undefined ? undefined : { cause })
}

export interface WireError {
  readonly wireError: true
  readonly code: ErrorCode | null
  readonly name: string
  readonly message: string
  readonly details: ErrorDetails | undefined
  readonly stack: string | undefined
}

/** A structured-clone-safe form of any error; codes and details survive the trip. */
export function toWire(error: unknown): WireError {
  if (error instanceof EventStoreError) {
    return { wireError: true, code: error.code, name: error.name, message: error.message, details: error.details, stack: error.stack }
  }
  const plain = error instanceof Error ? error : new Error(String(error))
  return { wireError: true, code: null, name: plain.name, message: plain.message, details: undefined, stack: plain.stack }
}

export function isWireError(value: unknown): value is WireError {
  return typeof value === 'object' && value !== null && (value as WireError).wireError === true
}

export function fromWire(wire: WireError): Error {
  const error = wire.code ? errorFor(wire.code, wire.message, wire.details) : new Error(wire.message)
  if (!wire.code) error.name = wire.name
  if (wire.stack) error.stack = wire.stack
  return error
}
