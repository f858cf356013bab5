// Pure: a batch of queued write requests plus what the database holds of the streams and
// events they touch → each request's outcome and one write plan for all that succeed.
// Requests are planned in mailbox order against a running copy of the state, so a request
// sees the effect of the ones before it, and a failing one changes nothing for the others.
import { checkExpectedVersion } from '../expected_version.js'
import { errorFor, type EventStoreError } from '../errors.js'
import type { Assumption, BatchSnapshot, Lookups, EventColumns, LinkColumns, RelativeExpectation, StoredStream, WritePlan } from '../storage/write_plan.js'
import type { ExpectedVersion } from '../types.js'
import type { WriteRequest } from './messages.js'

export interface BatchPlan {
  /** One entry per request, in order: null when it will be written. */
  outcomes: (EventStoreError | null)[]
  /** Null when nothing is to be written. */
  write: WritePlan | null
}

interface StreamState {
  streamId: number | null
  version: number
  exists: boolean
  deleted: boolean
  /** True once a request of this batch wrote to the stream. */
  grew: boolean
}

interface KnownEvent {
  position: number
  /** The original stream's uuid, when the batch knows it. */
  streamUuid: string | null
}

export function planBatch(requests: readonly WriteRequest[], snapshot: BatchSnapshot): BatchPlan {
  const streams = new Map<string, StreamState>()
  const uuidById = new Map<number, string>()
  for (const s of snapshot.streams) {
    streams.set(s.streamUuid, { streamId: s.streamId, version: s.version, exists: true, deleted: s.deleted, grew: false })
    uuidById.set(s.streamId, s.streamUuid)
  }
  const events = new Map<string, KnownEvent>()
  for (const e of snapshot.events) events.set(e.eventId, { position: e.position, streamUuid: uuidById.get(e.streamId) ?? null })
  const links = new Set<string>()
  for (const l of snapshot.links) {
    const uuid = uuidById.get(l.streamId)
    if (uuid !== undefined) links.add(`${l.position}:${uuid}`)
  }

  let position = snapshot.lastPosition
  const columns: EventColumns = { positions: [], eventIds: [], streams: [], versions: [], types: [], causationIds: [], correlationIds: [], data: [], metadata: [] }
  const linkColumns: LinkColumns = { streams: [], versions: [], positions: [] }
  const outcomes = requests.map((request): EventStoreError | null => {
    const stream = streams.get(request.streamId) ?? { streamId: null, version: 0, exists: false, deleted: false, grew: false }
    const refused = checkExpectedVersion(request.streamId, request.expected, stream)
    if (refused) return refused

    if (request.type === 'append') {
      const seen = new Set<string>()
      for (const event of request.events) {
        if (event.idGiven && (events.has(event.eventId) || seen.has(event.eventId))) {
          return errorFor('duplicate_event', `event id ${event.eventId} is already stored`, { streamId: request.streamId, eventId: event.eventId })
        }
        seen.add(event.eventId)
      }
      let version = stream.version
      for (const event of request.events) {
        position += 1
        version += 1
        events.set(event.eventId, { position, streamUuid: request.streamId })
        columns.positions.push(position)
        columns.eventIds.push(event.eventId)
        columns.streams.push(request.streamId)
        columns.versions.push(version)
        columns.types.push(event.eventType)
        columns.causationIds.push(event.causationId)
        columns.correlationIds.push(event.correlationId)
        columns.data.push(event.dataJson)
        columns.metadata.push(event.metadataJson)
      }
      streams.set(request.streamId, { ...stream, version, exists: true, grew: true })
      return null
    }

    const targets: number[] = []
    for (const eventId of request.eventIds) {
      const event = events.get(eventId)
      if (!event) {
        return errorFor('invalid_argument', `event ${eventId} does not exist; only stored events can be linked`, { streamId: request.streamId, eventId })
      }
      const key = `${event.position}:${request.streamId}`
      if (event.streamUuid === request.streamId || links.has(key) || targets.includes(event.position)) {
        return errorFor('duplicate_event', `event ${eventId} is already in stream "${request.streamId}"`, { streamId: request.streamId, eventId })
      }
      targets.push(event.position)
    }
    let version = stream.version
    for (const target of targets) {
      version += 1
      links.add(`${target}:${request.streamId}`)
      linkColumns.streams.push(request.streamId)
      linkColumns.versions.push(version)
      linkColumns.positions.push(target)
    }
    streams.set(request.streamId, { ...stream, version, exists: true, grew: true })
    return null
  })

  const eventCount = columns.positions.length
  if (eventCount === 0 && linkColumns.positions.length === 0) return { outcomes, write: null }
  const newStreams: WritePlan['newStreams'] = []
  const grownStreams: WritePlan['grownStreams'] = []
  for (const [streamUuid, state] of streams) {
    if (!state.grew) continue
    if (state.streamId === null) newStreams.push({ streamUuid, version: state.version })
    else grownStreams.push({ streamId: state.streamId, streamUuid, version: state.version })
  }
  return {
    outcomes,
    write: {
      newStreams,
      grownStreams,
      lastPosition: position,
      events: columns,
      links: linkColumns,
      eventCount,
    },
  }
}

/** The stream ids and event ids a batch must look up before it can be planned. */
export function batchLookups(requests: readonly WriteRequest[]): Lookups {
  const streamUuids = new Set<string>()
  const eventIds = new Set<string>()
  for (const request of requests) {
    streamUuids.add(request.streamId)
    if (request.type === 'append') {
      for (const event of request.events) if (event.idGiven) eventIds.add(event.eventId)
    } else {
      for (const id of request.eventIds) eventIds.add(id)
    }
  }
  return { streamUuids: [...streamUuids], eventIds: [...eventIds], hasLinks: requests.some((r) => r.type === 'link') }
}

/**
 * The states a batch's requests expect their streams in, to plan against without reading
 * (sql/statements/write_expected.sql checks them under the $all lock): each stream's first
 * request says it does not exist (0, 'no_stream'), exists, not deleted, at version N, or
 * takes it as it is ('any_version', 'stream_exists': versions counted from what the statement
 * finds). Null when a request is a link, or when a stream taken as it is is then expected at
 * an exact version: those need the stored state. The streams' internal ids, unknown here, are
 * stood in for by negative numbers.
 */
export function assumeExpectedStates(requests: readonly WriteRequest[]): Assumption | null {
  const expected = new Map<string, StoredStream | null>()
  const relative = new Map<string, RelativeExpectation>()
  for (const request of requests) {
    if (request.type !== 'append') return null
    const version = request.expected
    if (expected.has(request.streamId)) {
      if (relative.has(request.streamId) && isExactExpectation(version)) return null
      continue
    }
    const placeholder = { streamId: -(expected.size + 1), streamUuid: request.streamId, deleted: false }
    if (!isExactExpectation(version)) {
      relative.set(request.streamId, version)
      expected.set(request.streamId, { ...placeholder, version: 0 })
    } else if (version === 0 || version === 'no_stream') expected.set(request.streamId, null)
    else expected.set(request.streamId, { ...placeholder, version })
  }
  const streams = [...expected.values()].filter((stream) => stream !== null)
  return { snapshot: { lastPosition: 0, streams, events: [], links: [] }, relative }
}

/** An expectation of an exact state: no stream yet, or version N. */
function isExactExpectation(expected: ExpectedVersion): expected is number | 'no_stream' {
  return typeof expected === 'number' || expected === 'no_stream'
}
