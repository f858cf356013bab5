// Server-side filters: which events of $all a read or a subscription wants, by event type and
// by stream id prefix (a category, as Message DB and KurrentDB call it). PostgreSQL applies
// them, so events that do not match never reach Node.
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'
import { checkPlainObject, checkText } from './validation.js'

export interface EventFilter {
  /** Keep events of these types. */
  eventTypes?: string[]
  /** Keep events of streams whose id starts with this, e.g. 'order-'. */
  streamPrefix?: string
}

/** A checked filter: plain data (it crosses threads), null parts keep everything. */
export interface ResolvedFilter {
  eventTypes: string[] | null
  streamPrefix: string | null
}

/** Most event types one filter may list. */
const MAX_EVENT_TYPES = 1000

/** Checks a filter option; null when none is given. */
export function checkFilter(value: unknown, what = 'filter'): ResolvedFilter | null {
  if (value === undefined || value === null) return null
  const { eventTypes, streamPrefix, ...rest } = checkPlainObject(value, what) as EventFilter
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw new InvalidArgumentError(`${what} takes eventTypes and streamPrefix; got ${unknown.map((k) => JSON.stringify(k)).join(', ')}`, { argument: what })
  if (eventTypes !== undefined && (!Array.isArray(eventTypes) || eventTypes.length === 0 || eventTypes.length > MAX_EVENT_TYPES)) {
    throw new InvalidArgumentError(`${what}.eventTypes must be a list of 1 to ${MAX_EVENT_TYPES} event types; got ${describe(eventTypes)}`, { argument: `${what}.eventTypes` })
  }
  return {
    eventTypes: eventTypes === undefined ? null : Array.from(eventTypes, (type, i) => checkText(type, `${what}.eventTypes[${i}]`)),
    streamPrefix: streamPrefix === undefined ? null : checkText(streamPrefix, `${what}.streamPrefix`),
  }
}

/** The filter's stream prefix as a LIKE pattern, its own % _ and \ taken literally. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}
