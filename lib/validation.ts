// Input checks shared by every public method: bad input becomes an InvalidArgumentError
// before anything reaches the database.
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'
import { ALL_STREAM, type CallOptions } from './types.js'

/** Longer identifiers would not fit a btree index entry (PostgreSQL counts bytes, not characters). */
const MAX_ID_BYTES = 1000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** The usual spelling, which needs no copy in lower case. */
const LOWER_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A string PostgreSQL can store as `text` unchanged: no NUL, no lone surrogate, not too long. */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string; got ${describe(value)}`, { argument: what })
  }
  // A UTF-16 unit takes at most 3 bytes in UTF-8: count the bytes only when it may matter.
  if (value.length * 3 > MAX_ID_BYTES) {
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > MAX_ID_BYTES) {
      throw new InvalidArgumentError(`${what} takes ${bytes} bytes in UTF-8; at most ${MAX_ID_BYTES} are allowed`, { argument: what })
    }
  }
  if (value.includes('\u0000') || !value.isWellFormed()) {
    throw new InvalidArgumentError(`${what} holds a NUL character or a lone surrogate, which PostgreSQL cannot store`, { argument: what })
  }
  return value
}

/** A stream id for reading; `$all` allowed. */
export function checkStreamId(value: unknown): string {
  return checkText(value, 'stream id')
}

/** A stream id for writing: `$all` is the global stream and takes no direct appends. */
export function checkWritableStreamId(value: unknown): string {
  const streamId = checkStreamId(value)
  if (streamId === ALL_STREAM) {
    throw new InvalidArgumentError(`"${ALL_STREAM}" is the global stream; append to a stream of your own instead`, { streamId })
  }
  return streamId
}

export function checkUuid(value: unknown, what: string): string {
  if (typeof value === 'string' && LOWER_CASE_UUID.test(value)) return value
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new InvalidArgumentError(`${what} must be a UUID such as 0f6f7a1e-4b9d-4c8e-9a57-2d1f0c3b5e7a; got ${describe(value)}`, { argument: what })
  }
  return value.toLowerCase()
}

export function checkOptionalUuid(value: unknown, what: string): string | null {
  return value === undefined || value === null ? null : checkUuid(value, what)
}

/** A non-negative integer such as a start version or position; `allowMinusOne` for "from the end". */
export function checkPosition(value: unknown, what: string, allowMinusOne = false): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && (value >= 0 || (allowMinusOne && value === -1))) return value
  const range = allowMinusOne ? 'a non-negative integer or -1 (from the end)' : 'a non-negative integer'
  throw new InvalidArgumentError(`${what} must be ${range}; got ${describe(value)}`, { argument: what })
}

export function checkCount(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= 2 ** 31 - 1) return value
  throw new InvalidArgumentError(`${what} must be a positive integer; got ${describe(value)}`, { argument: what })
}

/**
 * A read's `count`, at most `max` (the store's maxReadCount): one call materialises its whole
 * result in memory, so anything larger belongs to an iterator, which holds one page at a time.
 */
export function checkReadCount(value: unknown, max: number, what: string, advice: string): number {
  const count = checkCount(value, what)
  if (count <= max) return count
  throw new InvalidArgumentError(`${what} ${count} is above maxReadCount (${max}); ${advice}, or raise maxReadCount`, {
    argument: what,
    max,
  })
}

export function checkPlainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object; got ${describe(value)}`, { argument: what })
  }
  return value as Record<string, unknown>
}

/** `{ signal, timeout }` of a call, checked; other keys of the options object are left to the call. */
export function checkCallOptions(opts: CallOptions | undefined): CallOptions {
  if (opts === undefined) return {}
  checkPlainObject(opts, 'options')
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`options.signal must be an AbortSignal; got ${describe(opts.signal)}`)
  }
  if (opts.timeout !== undefined) checkCount(opts.timeout, 'options.timeout')
  return { signal: opts.signal, timeout: opts.timeout }
}
