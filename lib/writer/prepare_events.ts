// An append's events as the writer takes them: checked, stamped (trace context, schema
// version), serialised, and bounded in size; anything wrong refuses that append alone.
import { EventStoreError, InvalidArgumentError } from '../errors.js'
import { describe } from '../expected_version.js'
import { TRACEPARENT_KEY } from '../observability/otel.js'
import { type Codec, encodeTerm } from '../serializer.js'
import type { EventData } from '../types.js'
import { SCHEMA_VERSION_KEY } from '../upcasting.js'
import { uuidV7 } from '../uuid_v7.js'
import { checkOptionalUuid, checkPlainObject, checkText, checkUuid } from '../validation.js'
import type { PreparedEvent } from './messages.js'

export function checkEventList(events: unknown): void {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidArgumentError(`events must be a non-empty array of { eventType, data }; got ${describe(events)}`)
  }
}

/**
 * Validates and serialises an append's events, as the writer takes it. Whatever the caller's
 * objects do when read (holes in the array, getters that throw) ends as InvalidArgumentError
 * of this append alone.
 */
export function prepareEvents(events: EventData[], codec: Codec, traceparent: string | undefined): PreparedEvent[] {
  const prepared: PreparedEvent[] = []
  let units = 0
  for (let i = 0; i < events.length; i += 1) {
    const at = `events[${i}]`
    let event: PreparedEvent
    try {
      event = prepareEvent(events[i], at, codec, traceparent)
    } catch (error) {
      if (error instanceof EventStoreError) throw error
      throw new InvalidArgumentError(`${at} could not be read: ${(error as Error)?.message ?? String(error)}`, { argument: at })
    }
    units += event.dataJson.length + event.metadataJson.length
    prepared.push(event)
  }
  // A UTF-16 unit takes at most 3 bytes in UTF-8: count the bytes only when it may matter.
  if (units * 3 > MAX_APPEND_BYTES) {
    const bytes = prepared.reduce((sum, e) => sum + Buffer.byteLength(e.dataJson) + Buffer.byteLength(e.metadataJson), 0)
    if (bytes > MAX_APPEND_BYTES) {
      throw new InvalidArgumentError(`the events of one append take ${bytes} bytes as stored; at most ${MAX_APPEND_BYTES / 2 ** 20} MiB are allowed, split the append`, { bytes })
    }
  }
  return prepared
}

function prepareEvent(event: EventData | undefined, at: string, codec: Codec, traceparent: string | undefined): PreparedEvent {
  checkPlainObject(event, at)
  const { data, eventType: type, eventId, causationId, correlationId, metadata: given } = event as EventData
  if (data === undefined) throw new InvalidArgumentError(`${at}.data is missing`, { argument: `${at}.data` })
  const checked = given === undefined || given === null ? {} : checkPlainObject(given, `${at}.metadata`)
  const eventType = checkText(type, `${at}.eventType`)
  // A traceparent the caller put there stays: it names the span the event came from.
  const traced = traceparent && !(TRACEPARENT_KEY in checked) ? { ...checked, [TRACEPARENT_KEY]: traceparent } : checked
  // A new event is written in its type's current form: upcasters pass it by.
  const version = codec.upcasters?.currentVersion(eventType) ?? null
  const metadata = version !== null && !(SCHEMA_VERSION_KEY in traced) ? { ...traced, [SCHEMA_VERSION_KEY]: version } : traced
  const idGiven = eventId !== undefined && eventId !== null
  return {
    eventId: idGiven ? checkUuid(eventId, `${at}.eventId`) : uuidV7(),
    eventType,
    causationId: checkOptionalUuid(causationId, `${at}.causationId`),
    correlationId: checkOptionalUuid(correlationId, `${at}.correlationId`),
    dataJson: encodeTerm(codec, data, `${at}.data`, eventType),
    metadataJson: encodeTerm(codec, metadata, `${at}.metadata`, eventType),
    idGiven,
  }
}

/** Most bytes of data and metadata one append may carry: a batch joins them into one text parameter. */
const MAX_APPEND_BYTES = 64 * 2 ** 20
