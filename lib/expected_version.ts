// Expected versions as the writer checks them (= commanded's expected_version handling
// in stream.ex): parse user input once, then check it against a stream's current state.
import { errorFor, type EventStoreError, InvalidArgumentError } from './errors.js'
import type { ExpectedVersion } from './types.js'

/** What the writer knows of a stream when it checks an append against it. */
export interface StreamState {
  exists: boolean
  version: number
  deleted: boolean
}

export function parseExpectedVersion(value: unknown): ExpectedVersion {
  if (value === 'any_version' || value === 'no_stream' || value === 'stream_exists') return value
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  throw new InvalidArgumentError(
    `expected version must be a non-negative integer or one of 'any_version', 'no_stream', 'stream_exists'; got ${describe(value)}`,
    { expectedVersion: describe(value) },
  )
}

/** Returns the error an append with `expected` gets against `stream`, or null when it may go ahead. */
export function checkExpectedVersion(streamId: string, expected: ExpectedVersion, stream: StreamState): EventStoreError | null {
  if (stream.deleted) {
    return errorFor('stream_deleted', `stream "${streamId}" has been deleted`, { streamId })
  }
  const details = { streamId, expected, actual: stream.exists ? stream.version : 'no_stream' }
  switch (expected) {
    case 'any_version':
      return null
    case 'no_stream':
      return stream.exists ? errorFor('stream_exists', `stream "${streamId}" already exists (version ${stream.version})`, details) : null
    case 'stream_exists':
      return stream.exists ? null : errorFor('stream_not_found', `stream "${streamId}" does not exist`, details)
    default: {
      const actual = stream.exists ? stream.version : 0
      if (actual === expected) return null
      return errorFor('wrong_expected_version', `stream "${streamId}" is at version ${actual}, expected ${expected}`, details)
    }
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}
