// Executing the writer's plans (= commanded appender.ex, per batch instead of per append).
// The writer decides what to write and what to retry (lib/writer/); this module runs the
// statements and reports what the server said. Two ways to write:
// - expected: a plan made against the states the requests expect (doesn't exist, is at
//   version N, or any version) goes out as one statement that checks them under the $all
//   lock (sql/statements/write_expected.sql). One round trip, pipelined by the writer.
// - locking: lock $all, read what the batch touches, let the writer plan against it, write.
// Either way the notification to listeners (lib/notifications) is sent by the same
// transaction, so it arrives exactly when the events are visible.
import { type NotifyTarget, notificationPayload, streamsJson } from './notifications.js'
import type { Sql } from './database.js'
import { plainArray, textArray } from './arrays.js'
import type { Assumption, BatchSnapshot, EventColumns, Lookups, WritePlan } from './write_plan.js'

interface StreamRow {
  stream_id: number
  stream_uuid: string
  stream_version: number
  deleted: boolean
}
interface EventRow {
  event_id: string
  global_position: number
  stream_id: number
}
interface LinkRow {
  stream_id: number
  global_position: number
}

const prepared = { prepare: true } as const

const writtenStreams = (write: WritePlan): string[] => [...write.newStreams, ...write.grownStreams].map((s) => s.streamUuid)

/**
 * The events as the write statements' nine `unnest` parameters. Data and metadata travel
 * as one text each, JSON texts joined by newlines: JSON.stringify never leaves a raw
 * newline in its output, so PostgreSQL splits them (string_to_array) with no quoting here.
 */
const eventParams = (events: EventColumns) => [
  plainArray(events.positions),
  plainArray(events.eventIds),
  textArray(events.streams),
  plainArray(events.versions),
  textArray(events.types),
  plainArray(events.causationIds),
  plainArray(events.correlationIds),
  events.data.join('\n'),
  events.metadata.join('\n'),
]

/**
 * Writes a plan made against expected states in one statement, which checks them under the
 * $all lock and fails as a whole if one does not hold. Resolves to the position before the
 * batch and the time the reads give its events (epoch ms). Streams taken as they were
 * ('any_version', 'stream_exists') were planned from version 0: their events go out counted
 * back from the stream's last version, and once written `write` holds their real versions.
 */
export async function writeExpected(sql: Sql, notify: NotifyTarget, write: WritePlan, assumed: Assumption): Promise<{ first: number; createdAt: number }> {
  const expectedVersion = new Map(assumed.snapshot.streams.map((s) => [s.streamUuid, s.version]))
  const grown = write.grownStreams.filter((s) => assumed.relative.get(s.streamUuid) !== 'any_version')
  const anyVersion = write.grownStreams.filter((s) => assumed.relative.get(s.streamUuid) === 'any_version')
  const events = assumed.relative.size === 0 ? write.events : { ...write.events, versions: countedBack(write, assumed) }
  const [row] = await sql.unsafe<{ first: number; created_at: number; lasts: Record<string, number> | null }[]>(
    sql.statements.write_expected,
    [
      textArray(write.newStreams.map((s) => s.streamUuid)),
      plainArray(write.newStreams.map((s) => s.version)),
      textArray(grown.map((s) => s.streamUuid)),
      plainArray(grown.map((s) => (assumed.relative.has(s.streamUuid) ? null : (expectedVersion.get(s.streamUuid) as number)))),
      plainArray(grown.map((s) => s.version)),
      write.eventCount,
      ...eventParams(events),
      notify.channel,
      streamsJson(writtenStreams(write)),
      notify.origin,
      textArray(anyVersion.map((s) => s.streamUuid)),
      plainArray(anyVersion.map((s) => s.version)),
    ],
    prepared,
  )
  if (!row) throw new Error('the expected write returned no row')
  if (row.lasts) {
    const lasts = row.lasts
    write.events.versions = events.versions.map((version, index) => version + (lasts[write.events.streams[index] as string] ?? 0))
  }
  return { first: row.first, createdAt: row.created_at }
}

/**
 * The events' versions with those of streams planned from 0 counted back from their last
 * version in the batch (the stream's version in the plan): 0 for the last, -1 before it, ….
 */
function countedBack(write: WritePlan, assumed: Assumption): number[] {
  const planned = new Map(write.grownStreams.filter((s) => assumed.relative.has(s.streamUuid)).map((s) => [s.streamUuid, s.version]))
  const { streams, versions } = write.events
  return versions.map((version, index) => version - (planned.get(streams[index] as string) ?? 0))
}

/**
 * Locks $all, reads what the batch touches, asks `plan` what to write against it, writes
 * that and commits. Three round trips: BEGIN; the lock and the reads together; the write,
 * its notification and COMMIT together. Resolves to the transaction's time as the reads
 * give created_at (epoch ms).
 */
export async function writeLocking(sql: Sql, notify: NotifyTarget, lookups: Lookups, plan: (snapshot: BatchSnapshot) => WritePlan | null): Promise<{ createdAt: number }> {
  const { streamUuids, eventIds, hasLinks } = lookups
  const { statements } = sql

  let writing: Promise<unknown> = Promise.resolve()
  const result = (await sql.begin(async (tx) => {
    // Sent together: the server runs them in order, so both reads see the state under the lock.
    const [lock, streams, events] = await Promise.all([
      tx.unsafe<{ last_position: number; created_at: number }[]>(statements.lock_all_stream, [], prepared),
      tx.unsafe<StreamRow[]>(statements.query_streams, [textArray(streamUuids)], prepared),
      eventIds.length > 0 ? tx.unsafe<EventRow[]>(statements.query_events, [plainArray(eventIds)], prepared) : [],
    ])
    const links =
      hasLinks && streams.length > 0 && events.length > 0
        ? await tx.unsafe<LinkRow[]>(statements.query_links, [plainArray(streams.map((s) => s.stream_id)), plainArray(events.map((e) => e.global_position))], prepared)
        : []
    const locked = lock[0] as { last_position: number; created_at: number } // the $all row always exists
    const snapshot: BatchSnapshot = {
      lastPosition: locked.last_position,
      streams: streams.map((s) => ({ streamId: s.stream_id, streamUuid: s.stream_uuid, version: s.stream_version, deleted: s.deleted })),
      events: events.map((e) => ({ eventId: e.event_id, position: e.global_position, streamId: e.stream_id })),
      links: links.map((l) => ({ streamId: l.stream_id, position: l.global_position })),
    }
    const write = plan(snapshot)
    if (write) {
      // Not awaited: postgres.js queues its COMMIT right behind them, so all three travel in
      // one flight. Should the write fail, that COMMIT only rolls back, and the write's own
      // error is raised below.
      const writeQuery = tx.unsafe(
        statements.write_batch,
        [
          textArray(write.newStreams.map((s) => s.streamUuid)),
          plainArray(write.newStreams.map((s) => s.version)),
          plainArray(write.grownStreams.map((s) => s.streamId)),
          textArray(write.grownStreams.map((s) => s.streamUuid)),
          plainArray(write.grownStreams.map((s) => s.version)),
          write.lastPosition,
          ...eventParams(write.events),
          textArray(write.links.streams),
          plainArray(write.links.versions),
          plainArray(write.links.positions),
        ],
        prepared,
      )
      const first = write.eventCount > 0 ? snapshot.lastPosition + 1 : null
      const last = write.eventCount > 0 ? write.lastPosition : null
      const handedOff = write.eventCount > 0 && write.links.positions.length === 0
      const payload = notificationPayload(first, last, writtenStreams(write), handedOff ? notify.origin : null)
      const notifyQuery = tx.unsafe(statements.notify, [notify.channel, payload], prepared)
      writing = Promise.all([writeQuery, notifyQuery])
      writing.catch(() => {}) // awaited below, once the transaction has ended
    }
    return { createdAt: locked.created_at }
  })) as { createdAt: number }
  await writing
  return result
}

/** One thing a write would have stored, to find out afterwards whether it did. */
export type Witness =
  | { type: 'event'; eventId: string }
  | { type: 'link'; streamUuid: string; position: number }
  | { type: 'deleted'; streamUuid: string }

/**
 * Whether a write whose outcome is unknown committed: waits until no write transaction holds
 * the $all lock (one whose connection was lost may still be committing), then looks for its
 * witness. A transaction is atomic, so one witness answers for the whole batch.
 */
export async function isWritten(sql: Sql, witness: Witness): Promise<boolean> {
  const { statements } = sql
  const [statement, params] =
    witness.type === 'event'
      ? [statements.outcome_event_written, [witness.eventId]]
      : witness.type === 'link'
        ? [statements.outcome_link_written, [witness.streamUuid, witness.position]]
        : [statements.outcome_stream_deleted, [witness.streamUuid]]
  return (await sql.begin(async (tx) => {
    await tx.unsafe(statements.outcome_wait, [], prepared)
    const [row] = await tx.unsafe<{ written: boolean }[]>(statement, params, prepared)
    return row?.written === true
  })) as boolean
}
