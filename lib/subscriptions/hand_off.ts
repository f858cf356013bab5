// Events this process's writer has just committed go straight to its subscription actors,
// which then need not read them back (the Elixir library's notifications carry events to
// subscriptions the same way). The actor takes them only when they follow on exactly from
// what it has; otherwise they count as a notification and it reads (workers/subscription/fsm.ts).
// Other processes still learn of the write by NOTIFY and read.
import type { ColumnDataType } from '../serializer.js'
import type { CommittedEvents, EventColumns } from '../storage/write_plan.js'
import type { RecordedEvent } from '../types.js'
import { inJsonbKeyOrder } from '../jsonb_key_order.js'

/** A batch's events for one subscription actor, and where the batch ends in $all. */
export interface HandOff extends CommittedEvents {
  /** The batch's last global position: its NOTIFY announces this, and the actor then need not read. */
  last: number
}

/** What a subscription to `streamId` gets of a committed batch; null when none of it concerns it. */
export function handOffFor(committed: CommittedEvents, streamId: string): HandOff | null {
  const last = committed.positionOffset + (committed.events.positions.at(-1) as number)
  if (streamId === '$all') return { ...committed, last }
  const { streams } = committed.events
  const picked: number[] = []
  for (let i = 0; i < streams.length; i += 1) if (streams[i] === streamId) picked.push(i)
  if (picked.length === 0) return null
  if (picked.length === streams.length) return { ...committed, last }
  const pick = <T>(column: T[]): T[] => picked.map((i) => column[i] as T)
  const e = committed.events
  const events: EventColumns = {
    positions: pick(e.positions),
    eventIds: pick(e.eventIds),
    streams: pick(e.streams),
    versions: pick(e.versions),
    types: pick(e.types),
    causationIds: pick(e.causationIds),
    correlationIds: pick(e.correlationIds),
    data: pick(e.data),
    metadata: pick(e.metadata),
  }
  return { ...committed, events, last }
}

/**
 * The handed-off events exactly as a read of `streamId` would return them (lib/storage/read.ts
 * parsePage): event numbers, data and metadata as stored. Ids are lower case already
 * (lib/validation.ts checkUuid), as PostgreSQL prints them.
 */
export function handedOffEvents(handOff: CommittedEvents, streamId: string, column: ColumnDataType): RecordedEvent[] {
  const { events: e, positionOffset, createdAt } = handOff
  // jsonb reorders keys (and JSON null data is stored as SQL NULL, which reads as null too).
  const stored = column === 'jsonb' ? inJsonbKeyOrder : storedBytea
  // One parse per column is cheaper than one per event.
  const data = JSON.parse(`[${e.data.join(',')}]`) as unknown[]
  const metadata = JSON.parse(`[${e.metadata.join(',')}]`) as unknown[]
  const all = streamId === '$all'
  return e.positions.map((position, i) => {
    const version = e.versions[i] as number
    return {
      eventNumber: all ? position + positionOffset : version,
      eventId: e.eventIds[i] as string,
      streamId: e.streams[i] as string,
      streamVersion: version,
      eventType: e.types[i] as string,
      data: stored(data[i]),
      metadata: stored(metadata[i]) as Record<string, unknown>,
      causationId: e.causationIds[i] ?? null,
      correlationId: e.correlationIds[i] ?? null,
      createdAt: new Date(createdAt),
    }
  })
}

/** The base64 string the write sent (lib/serializer.ts encodeTerm) as a read gives bytea: "\x" hex. */
const storedBytea = (value: unknown): string => `\\x${Buffer.from(value as string, 'base64').toString('hex')}`
