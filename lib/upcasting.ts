// Upcasters: event schemas evolve without rewriting history. Each transform takes an event of
// one type at one schema version (metadata.$schemaVersion, 1 when absent) to the next; they
// compose in order as events are decoded, in the thread that consumes them (reads,
// iterators, subscriber functions and, given as a module, actor-module subscribers).
// Appends stamp an event type's current version, so new events skip the chain.
import { pathToFileURL } from 'node:url'
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'
import type { RecordedEvent } from './types.js'

export const SCHEMA_VERSION_KEY = '$schemaVersion'

export interface Upcaster {
  /** The stored event type it reads. */
  eventType: string
  /** The schema version it reads (1 for events stored before any version was stamped). */
  fromVersion: number
  /**
   * Returns the event at the next version: the same type (stamped fromVersion + 1 unless it
   * says otherwise), another type (a rename: it continues at the version its metadata says,
   * 1 when none), or several events (a split; they share the event number).
   */
  upcast(event: RecordedEvent): RecordedEvent | RecordedEvent[]
}

/** Steps one event may take through upcasters: more means a cycle between types. */
const MAX_STEPS = 100

const versionOf = (event: RecordedEvent): number => {
  const version = (event.metadata as Record<string, unknown> | null)?.[SCHEMA_VERSION_KEY]
  return typeof version === 'number' && Number.isSafeInteger(version) && version > 0 ? version : 1
}

export class Upcasters {
  readonly #byType = new Map<string, Map<number, Upcaster['upcast']>>()
  /** Per event type with upcasters: the version appends stamp. */
  readonly #current = new Map<string, number>()

  constructor(list: unknown) {
    if (!Array.isArray(list)) throw new InvalidArgumentError(`upcasters must be an array of { eventType, fromVersion, upcast }; got ${describe(list)}`, { argument: 'upcasters' })
    list.forEach((item: Partial<Upcaster> | null, i) => {
      const at = `upcasters[${i}]`
      if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`${at} must be { eventType, fromVersion, upcast }; got ${describe(item)}`, { argument: at })
      const { eventType, fromVersion, upcast } = item
      if (typeof eventType !== 'string' || eventType === '') throw new InvalidArgumentError(`${at}.eventType must be a non-empty string; got ${describe(eventType)}`, { argument: at })
      if (typeof fromVersion !== 'number' || !Number.isSafeInteger(fromVersion) || fromVersion < 1) {
        throw new InvalidArgumentError(`${at}.fromVersion must be a whole number from 1; got ${describe(fromVersion)}`, { argument: at })
      }
      if (typeof upcast !== 'function') throw new InvalidArgumentError(`${at}.upcast must be a function; got ${describe(upcast)}`, { argument: at })
      const versions = this.#byType.get(eventType) ?? new Map<number, Upcaster['upcast']>()
      if (versions.has(fromVersion)) throw new InvalidArgumentError(`${at}: a second upcaster of ${eventType} from version ${fromVersion}`, { argument: at })
      versions.set(fromVersion, upcast)
      this.#byType.set(eventType, versions)
      this.#current.set(eventType, Math.max(this.#current.get(eventType) ?? 1, fromVersion + 1))
    })
  }

  /** The version an append of this type is stamped with; null when the type has no upcaster. */
  currentVersion(eventType: string): number | null {
    return this.#current.get(eventType) ?? null
  }

  /** The event brought to its current form: one event, or several after a split. */
  apply(event: RecordedEvent, steps = 0): RecordedEvent[] {
    const version = versionOf(event)
    const upcast = this.#byType.get(event.eventType)?.get(version)
    if (!upcast) return [event]
    if (steps >= MAX_STEPS) throw new InvalidArgumentError(`upcasting event ${event.eventId} took more than ${MAX_STEPS} steps: the upcasters of ${event.eventType} form a cycle`)
    let result: RecordedEvent | RecordedEvent[]
    try {
      result = upcast(event)
    } catch (error) {
      throw new InvalidArgumentError(`the upcaster of ${event.eventType} from version ${version} failed on event ${event.eventId}: ${(error as Error)?.message ?? String(error)}`, { eventId: event.eventId }, { cause: error })
    }
    const next = Array.isArray(result) ? result : [result]
    return next.flatMap((upcasted, i) => {
      if (typeof upcasted !== 'object' || upcasted === null || typeof upcasted.eventType !== 'string') {
        throw new InvalidArgumentError(`the upcaster of ${event.eventType} from version ${version} returned ${describe(upcasted)}${Array.isArray(result) ? ` at ${i}` : ''}; it must return events`)
      }
      // The same type must move on, or it would meet the same upcaster again.
      const moved = upcasted.eventType !== event.eventType || versionOf(upcasted) > version ? upcasted : withVersion(upcasted, version + 1)
      return this.apply(moved, steps + 1)
    })
  }
}

function withVersion(event: RecordedEvent, version: number): RecordedEvent {
  return { ...event, metadata: { ...(event.metadata as Record<string, unknown>), [SCHEMA_VERSION_KEY]: version } }
}

/**
 * The upcasters given to EventStore.start: an array, or the URL or path of a module whose
 * default export (or `upcasters` export) is one. Only a module reaches actor-module
 * subscribers' threads: functions do not cross threads.
 */
export async function loadUpcasters(reference: unknown): Promise<Upcasters | null> {
  if (reference === undefined || reference === null) return null
  if (Array.isArray(reference)) return new Upcasters(reference)
  const url = upcastersModuleUrl(reference)
  let module: { default?: unknown; upcasters?: unknown }
  try {
    module = await import(url)
  } catch (error) {
    throw new InvalidArgumentError(`the upcasters module ${url} could not be loaded: ${(error as Error)?.message ?? String(error)}`, { upcasters: url }, { cause: error })
  }
  return new Upcasters(module.upcasters ?? module.default)
}

/** The module URL of `upcasters` given as a string or URL; null for an array. */
export function upcastersModuleUrl(reference: unknown): string {
  if (reference instanceof URL) return reference.href
  if (typeof reference === 'string') return /^[a-z]+:/i.test(reference) ? reference : pathToFileURL(reference).href
  throw new InvalidArgumentError(`upcasters must be an array of { eventType, fromVersion, upcast } or the URL or path of a module exporting one; got ${describe(reference)}`, { argument: 'upcasters' })
}
