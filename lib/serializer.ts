// How event data and metadata are stored: JSON into jsonb by default; `bytea` columns; or a
// user's serializer module (README, Serialization). A module, not a function, because
// the readers and subscription actors in the worker threads load it too.
import { pathToFileURL } from 'node:url'
import { describe } from './expected_version.js'
import { InvalidArgumentError } from './errors.js'
import { stringifyStrict } from './json.js'
import type { RecordedEvent } from './types.js'
import type { Upcasters } from './upcasting.js'

export interface Serializer {
  /** For jsonb columns: JSON text. For bytea columns: text (stored as UTF-8) or bytes. */
  serialize(term: unknown): string | Uint8Array
  /**
   * Receives what serialize produced: JSON text for jsonb columns, a Buffer for bytea.
   * `eventType` is null for metadata; for a snapshot it is the snapshot's sourceType.
   */
  deserialize(data: string | Buffer, context: { eventType: string | null }): unknown
}

export type ColumnDataType = 'jsonb' | 'bytea'

/** Everything a thread needs to turn terms into stored values and back. */
export interface Codec {
  column: ColumnDataType
  serializer: Serializer | null
  /** Brings decoded events to their current schema (lib/upcasting.ts). */
  upcasters?: Upcasters | null
}

export const defaultCodec: Codec = { column: 'jsonb', serializer: null }

/** True when pages can go from PostgreSQL's JSON straight to the caller, untouched. */
export function isPassThrough(codec: Codec): boolean {
  return codec.column === 'jsonb' && codec.serializer === null
}

/** Loads a serializer module by URL or path; it must export serialize and deserialize. */
export async function loadSerializer(reference: string | URL | undefined): Promise<Serializer | null> {
  if (reference === undefined) return null
  const url = reference instanceof URL ? reference.href : /^[a-z]+:/i.test(reference) ? reference : pathToFileURL(reference).href
  let module: Partial<Serializer> & { default?: Partial<Serializer> }
  try {
    module = await import(url)
  } catch (error) {
    throw new InvalidArgumentError(`cannot load the serializer module ${url}: ${(error as Error).message}`, { serializer: url }, { cause: error })
  }
  const candidate = typeof module.serialize === 'function' ? module : module.default
  if (typeof candidate?.serialize !== 'function' || typeof candidate.deserialize !== 'function') {
    throw new InvalidArgumentError(`the serializer module ${url} must export serialize(term) and deserialize(data, { eventType })`, { serializer: url })
  }
  return candidate as Serializer
}

/**
 * A term as the JSON text the write statement receives (lib/storage/append.ts eventParams):
 * the term's JSON for jsonb columns, a base64 JSON string for bytea columns. Either way it
 * holds no raw newline. Errors name the event type.
 */
export function encodeTerm(codec: Codec, term: unknown, what: string, eventType: string): string {
  if (!codec.serializer) {
    const json = stringifyStrict(term, what)
    return codec.column === 'jsonb' ? json : `"${Buffer.from(json, 'utf8').toString('base64')}"`
  }
  let serialized: string | Uint8Array
  try {
    serialized = codec.serializer.serialize(term)
  } catch (error) {
    throw new InvalidArgumentError(`the serializer failed on ${what} (event type ${JSON.stringify(eventType)}): ${(error as Error)?.message ?? error}`, { eventType }, { cause: error })
  }
  if (codec.column === 'bytea') {
    if (typeof serialized === 'string') return `"${Buffer.from(serialized, 'utf8').toString('base64')}"`
    if (serialized instanceof Uint8Array) return `"${Buffer.from(serialized.buffer, serialized.byteOffset, serialized.byteLength).toString('base64')}"`
  } else if (typeof serialized === 'string') {
    try {
      return stringifyStrict(JSON.parse(serialized), what)
    } catch (error) {
      throw new InvalidArgumentError(`the serializer must return JSON text for a jsonb column; ${what} (event type ${JSON.stringify(eventType)}) is not: ${(error as Error).message}`, { eventType })
    }
  }
  throw new InvalidArgumentError(`the serializer returned ${describe(serialized)} for ${what} (event type ${JSON.stringify(eventType)}); it must return a string${codec.column === 'bytea' ? ' or bytes' : ''}`, { eventType })
}

/**
 * A stored value, as it arrives in a page (a JSON value for jsonb, "\x…" hex text for
 * bytea) or from a query (a parsed value or a Buffer), back into the term.
 */
export function decodeStored(codec: Codec, stored: unknown, eventType: string | null): unknown {
  if (stored === null || stored === undefined) return stored ?? null
  let raw: string | Buffer
  if (codec.column === 'bytea') {
    raw = Buffer.isBuffer(stored) ? stored : Buffer.from(String(stored).slice(2), 'hex')
    if (!codec.serializer) return JSON.parse(raw.toString('utf8'))
  } else {
    if (!codec.serializer) return stored
    raw = JSON.stringify(stored)
  }
  try {
    return codec.serializer.deserialize(raw, { eventType })
  } catch (error) {
    const what = eventType === null ? 'metadata' : `an event of type ${JSON.stringify(eventType)}`
    throw new InvalidArgumentError(`the serializer could not deserialize ${what}: ${(error as Error)?.message ?? error}`, { eventType }, { cause: error })
  }
}

/**
 * Turns events as stored into events as the user wrote them, in the thread that consumes
 * them: a deserialized class instance would lose its prototype crossing threads.
 */
export function decodeEvents(codec: Codec, events: RecordedEvent[]): RecordedEvent[] {
  const decoded = isPassThrough(codec)
    ? events
    : events.map((event) => ({
        ...event,
        data: decodeStored(codec, event.data, event.eventType),
        metadata: decodeStored(codec, event.metadata, null) as Record<string, unknown>,
      }))
  const upcasters = codec.upcasters
  return upcasters ? decoded.flatMap((event) => upcasters.apply(event)) : decoded
}
