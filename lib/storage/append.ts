// Writing one batch of appends and links (= commanded appender.ex, per batch instead of per
// append). Two ways, one result:
// - expected: when every stream's first request states exactly what it expects (doesn't
//   exist, or is at version N), the batch is planned against those expectations and written
//   by one statement that checks them under the $all lock (sql/statements/write_expected.sql).
//   One round trip, on the writer's pipelined connection when it gives one.
// - locking: otherwise, or when an expectation no longer holds, lock $all, read what the
//   batch touches, plan it (lib/writer/group_commit.ts), write it. Three round trips: BEGIN;
//   the lock and the reads together; the write, its notification and COMMIT together.
// Either way the notification to listeners (lib/notifications) is sent by the same
// transaction, so it arrives exactly when the events are visible.
import type { EventStoreError } from '../errors.js'
import { type NotifyTarget, notificationPayload, streamsJson } from '../notifications/notification.js'
import { assumeExpectedStates, batchLookups, type BatchSnapshot, type EventColumns, planBatch, type WritePlan } from '../writer/group_commit.js'
import type { WriteRequest } from '../writer/messages.js'
import type { Sql } from './database.js'
import { isRolledBack } from './pg_errors.js'
import { statements } from './statements.js'

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

/**
 * The events a batch wrote, as committed, for this process's subscriptions
 * (lib/subscriptions/hand_off.ts): they need not read back what the writer just wrote.
 */
export interface CommittedEvents {
  events: EventColumns
  /** Added to each of `events.positions` gives the global position. */
  positionOffset: number
  /** Every event's created_at, epoch milliseconds, as the reads return it. */
  createdAt: number
}

/** What a batch's requests came to: each one's outcome (null: written), and the events written. */
export interface BatchResult {
  outcomes: (EventStoreError | null)[]
  committed: CommittedEvents | null
}

/** Counts batches by how they were written, for the writer's stats. */
export interface WriteCounts {
  expected: number
  locking: number
}

/**
 * Writes what it can of the batch and notifies listeners. A batch with links is not handed
 * off (`committed` null; its notification carries no origin): a link's event is not in the
 * plan, so only a read gets it.
 */
export async function writeBatch(
  sql: Sql,
  notify: NotifyTarget,
  requests: readonly WriteRequest[],
  { counts, pipe }: { counts?: WriteCounts; pipe?: Sql | null } = {},
): Promise<BatchResult> {
  const assumed = assumeExpectedStates(requests)
  if (assumed) {
    const plan = planBatch(requests, assumed)
    // A refusal is only certain once the state it was judged against is known to hold.
    if (plan.write && plan.outcomes.every((outcome) => outcome === null)) {
      try {
        const [row] = await writeExpected(pipe ?? sql, notify, plan.write, assumed)
        if (counts) counts.expected += 1
        return { outcomes: plan.outcomes, committed: committedEvents(plan.write, row) }
      } catch (error) {
        // A lost connection leaves the outcome unknown: not retried. Anything the server
        // refused was rolled back; the locking write finds out exactly what.
        if (!isRolledBack(error)) throw error
      }
    }
  }
  if (counts) counts.locking += 1
  return writeLocking(sql, notify, requests)
}

const writtenStreams = (write: WritePlan): string[] => [...write.newStreams, ...write.grownStreams].map((s) => s.streamUuid)

/**
 * An array literal of numbers or checked UUIDs, which need no quoting: cheaper than the
 * driver's per-element escaping, which the text arrays (stream ids, event types) still get.
 */
const plainArray = (values: readonly (number | string | null)[]): string => `{${values.map((v) => v ?? 'NULL').join(',')}}`

/**
 * The events as the write statements' nine `unnest` parameters. Data and metadata travel
 * as one text each, JSON texts joined by newlines: JSON.stringify never leaves a raw
 * newline in its output, so PostgreSQL splits them (string_to_array) with no quoting here.
 */
const eventParams = (events: EventColumns) => [
  plainArray(events.positions),
  plainArray(events.eventIds),
  events.streams,
  plainArray(events.versions),
  events.types,
  plainArray(events.causationIds),
  plainArray(events.correlationIds),
  events.data.join('\n'),
  events.metadata.join('\n'),
]

/** The expected write's positions count from 1 within the batch; `first` is where it started. */
const committedEvents = (write: WritePlan, row: { first: number; created_at: number } | undefined): CommittedEvents | null =>
  row && write.eventCount > 0 ? { events: write.events, positionOffset: row.first, createdAt: row.created_at } : null

function writeExpected(sql: Sql, notify: NotifyTarget, write: WritePlan, assumed: BatchSnapshot) {
  const expectedVersion = new Map(assumed.streams.map((s) => [s.streamUuid, s.version]))
  return sql.unsafe<{ first: number; created_at: number }[]>(
    statements.write_expected,
    [
      write.newStreams.map((s) => s.streamUuid),
      write.newStreams.map((s) => s.version),
      write.grownStreams.map((s) => s.streamUuid),
      write.grownStreams.map((s) => expectedVersion.get(s.streamUuid) as number),
      write.grownStreams.map((s) => s.version),
      write.eventCount,
      ...eventParams(write.events),
      notify.channel,
      streamsJson(writtenStreams(write)),
      notify.origin,
    ],
    prepared,
  )
}

async function writeLocking(sql: Sql, notify: NotifyTarget, requests: readonly WriteRequest[]): Promise<BatchResult> {
  const { streamUuids, eventIds } = batchLookups(requests)
  const hasLinks = requests.some((r) => r.type === 'link')
  let writing: Promise<unknown> = Promise.resolve()
  const result = (await sql.begin(async (tx) => {
    // Sent together: the server runs them in order, so both reads see the state under the lock.
    const [lock, streams, events] = await Promise.all([
      tx.unsafe<{ last_position: number; created_at: number }[]>(statements.lock_all_stream, [], prepared),
      tx.unsafe<StreamRow[]>(statements.query_streams, [streamUuids], prepared),
      eventIds.length > 0 ? tx.unsafe<EventRow[]>(statements.query_events, [eventIds], prepared) : [],
    ])
    const links =
      hasLinks && streams.length > 0 && events.length > 0
        ? await tx.unsafe<LinkRow[]>(statements.query_links, [streams.map((s) => s.stream_id), events.map((e) => e.global_position)], prepared)
        : []
    const locked = lock[0] as { last_position: number; created_at: number } // the $all row always exists
    const snapshot: BatchSnapshot = {
      lastPosition: locked.last_position,
      streams: streams.map((s) => ({ streamId: s.stream_id, streamUuid: s.stream_uuid, version: s.stream_version, deleted: s.deleted })),
      events: events.map((e) => ({ eventId: e.event_id, position: e.global_position, streamId: e.stream_id })),
      links: links.map((l) => ({ streamId: l.stream_id, position: l.global_position })),
    }
    const plan = planBatch(requests, snapshot)
    const write = plan.write
    let committed: CommittedEvents | null = null
    if (write) {
      // Not awaited: postgres.js queues its COMMIT right behind them, so all three travel in
      // one flight. Should the write fail, that COMMIT only rolls back, and the write's own
      // error is raised below.
      const writeQuery = tx.unsafe(
        statements.write_batch,
        [
          write.newStreams.map((s) => s.streamUuid),
          write.newStreams.map((s) => s.version),
          write.grownStreams.map((s) => s.streamId),
          write.grownStreams.map((s) => s.streamUuid),
          write.grownStreams.map((s) => s.version),
          write.lastPosition,
          ...eventParams(write.events),
          write.links.streams,
          write.links.versions,
          write.links.positions,
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
      if (handedOff) committed = { events: write.events, positionOffset: 0, createdAt: locked.created_at }
    }
    return { outcomes: plan.outcomes, committed }
  })) as BatchResult
  await writing
  return result
}
