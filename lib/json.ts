// Strict JSON: JSON.stringify silently turns NaN into null and drops functions, and
// PostgreSQL's jsonb refuses \u0000 and lone surrogates. Catch all of that up front, with
// the path of the offending value, so a user's data is stored exactly or not at all.
import { InvalidArgumentError } from './errors.js'

/** Deepest nesting of arrays and objects accepted: deeper would exhaust a stack here or in PostgreSQL. */
export const MAX_DEPTH = 1000

export function stringifyStrict(value: unknown, what: string): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    // A circular reference or a bigint: findProblem names it, with its path.
  }
  // Once JSON.stringify has walked the value, it holds no cycle, so the walk below needs no
  // record of the objects it is inside of (a record that cost appends much allocation).
  let problem: Problem | null
  try {
    problem = findProblem(value, json === undefined ? new Set() : null, 0)
  } catch (error) {
    // A getter or toJSON of the caller's that throws, or one that never ends.
    throw new InvalidArgumentError(`${what} cannot be stored as JSON: reading it threw ${(error as Error)?.message ?? String(error)}`, { path: what })
  }
  if (problem) {
    const path = problem.at.reduceRight<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${key}`), what)
    throw new InvalidArgumentError(`${path} cannot be stored as JSON: found ${problem.found}`, { path })
  }
  return json as string // undefined only for values findProblem refuses (functions, symbols, undefined)
}

/** Where a value JSON cannot hold exactly sits (keys from the inside out) and what it is. */
interface Problem {
  at: (string | number)[]
  found: string
}

/**
 * The first problem in `value`, or null. The path is only assembled for a problem found.
 * `seen` holds the objects the walk is inside of, to find cycles; null when there are none.
 */
function findProblem(value: unknown, seen: Set<object> | null, depth: number): Problem | null {
  switch (typeof value) {
    case 'string':
      return value.includes('\u0000') || !value.isWellFormed() ? { at: [], found: 'a string with a NUL character or a lone surrogate' } : null
    case 'number':
      return Number.isFinite(value) ? null : { at: [], found: String(value) }
    case 'boolean':
      return null
    case 'object':
      break
    default:
      return { at: [], found: typeof value === 'bigint' ? 'a bigint' : `a ${typeof value}` }
  }
  if (value === null) return null
  if (seen?.has(value)) return { at: [], found: 'a circular reference' }
  if (depth >= MAX_DEPTH) return { at: [], found: `arrays or objects nested more than ${MAX_DEPTH} levels deep` }
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return findProblem(toJSON.call(value), seen, depth)
  seen?.add(value)
  const problem = Array.isArray(value) ? findInArray(value, seen, depth + 1) : findInObject(value, seen, depth + 1)
  seen?.delete(value)
  return problem
}

function findInArray(items: unknown[], seen: Set<object> | null, depth: number): Problem | null {
  for (let index = 0; index < items.length; index += 1) {
    const problem = findProblem(items[index], seen, depth)
    if (problem) return { at: [...problem.at, index], found: problem.found }
  }
  return null
}

function findInObject(value: object, seen: Set<object> | null, depth: number): Problem | null {
  if (value instanceof Map || value instanceof Set) return { at: [], found: `a ${value.constructor.name}, which JSON would store as {}` }
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined) continue
    if (key.includes('\u0000') || !key.isWellFormed()) return { at: [key], found: 'a key with a NUL character or a lone surrogate' }
    const problem = findProblem(item, seen, depth)
    if (problem) return { at: [...problem.at, key], found: problem.found }
  }
  return null
}

/** A JSON string literal, for building JSON text by concatenation. */
export const quote = JSON.stringify

/** `quote` with a memory, for texts that repeat within one JSON text (stream ids, event types). */
export function quoteOnceEach(): (text: string) => string {
  const quoted = new Map<string, string>()
  return (text) => {
    let json = quoted.get(text)
    if (json === undefined) quoted.set(text, (json = quote(text)))
    return json
  }
}

/** A UUID (already checked) or null as JSON text. */
export const uuidOrNull = (id: string | null): string => (id === null ? 'null' : `"${id}"`)
