// Strict JSON: JSON.stringify silently turns NaN into null and drops functions, and
// PostgreSQL's jsonb refuses \u0000 and lone surrogates. Catch all of that up front, with
// the path of the offending value, so a user's data is stored exactly or not at all.
import { InvalidArgumentError } from './errors.js'

export function stringifyStrict(value: unknown, what: string): string {
  assertJsonValue(value, what, new Set())
  return JSON.stringify(value)
}

function assertJsonValue(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (value.includes('\u0000') || !value.isWellFormed()) reject(path, 'a string with a NUL character or a lone surrogate')
      return
    case 'number':
      if (!Number.isFinite(value)) reject(path, String(value))
      return
    case 'boolean':
      return
    case 'object':
      break
    default:
      reject(path, typeof value === 'bigint' ? 'a bigint' : `a ${typeof value}`)
  }
  if (value === null) return
  if (seen.has(value)) reject(path, 'a circular reference')
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    assertJsonValue(toJSON.call(value), path, seen)
    return
  }
  seen.add(value)
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJsonValue(item, `${path}[${index}]`, seen))
  } else {
    if (value instanceof Map || value instanceof Set) reject(path, `a ${value.constructor.name}, which JSON would store as {}`)
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key]
      if (item === undefined) continue
      if (key.includes('\u0000') || !key.isWellFormed()) reject(`${path}.${key}`, 'a key with a NUL character or a lone surrogate')
      assertJsonValue(item, `${path}.${key}`, seen)
    }
  }
  seen.delete(value)
}

function reject(path: string, found: string): never {
  throw new InvalidArgumentError(`${path} cannot be stored as JSON: found ${found}`, { path })
}

/** A JSON string literal, for building JSON text by concatenation. */
export const quote = JSON.stringify

/** A UUID (already checked) or null as JSON text. */
export const uuidOrNull = (id: string | null): string => (id === null ? 'null' : `"${id}"`)
