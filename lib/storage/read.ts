// Reads (= commanded storage/reader.ex), run inside reader workers. A page crosses to the
// main thread as one JSON string (see pageText) instead of a structured clone of many objects.
import { quote, quoteOnceEach, uuidOrNull } from '../json.js'
import type { ColumnDataType } from '../serializer.js'
import type { RecordedEvent, StreamInfo } from '../types.js'
import { cancelledBy, type Sql } from './database.js'
import type { Statements } from './statements.js'
import { textArray } from './arrays.js'
import { prefixPattern, type ResolvedFilter } from '../filter.js'

export type Direction = 'forward' | 'backward'

export type ReadTask =
  | { op: 'read_stream'; streamId: string; start: number; count: number; direction: Direction }
  | { op: 'read_all'; start: number; count: number; direction: Direction; filter?: ResolvedFilter | null }
  | { op: 'read_all_window'; start: number; end: number; count: number }
  | { op: 'stream_info'; streamId: string }
  | { op: 'paginate'; pageSize: number; offset: number; sortBy: SortBy; sortDir: 'asc' | 'desc'; pattern: string }

export type SortBy = 'streamId' | 'streamVersion' | 'createdAt' | 'deletedAt'

export type ReadResult =
  /** The page as JSON text (see pageText), data and metadata as stored. */
  | { status: 'found'; events: string }
  /** A filtered page of $all, and the last position as of the read: a short page looked at everything up to it. */
  | { status: 'filtered'; events: string; head: number }
  /** A window of $all (lib/readers/all_forward.ts), with the last position committed. */
  | { status: 'window'; events: string; last: number }
  | { status: 'not_found' | 'deleted' }
  | { status: 'info'; info: InfoRow | null }
  | { status: 'page'; rows: (InfoRow & { total: number })[] }

export interface InfoRow {
  stream_uuid: string
  stream_version: number
  created_at: Date
  deleted_at: Date | null
}

/** Where a backward read starts when asked for -1, "from the end". */
const END = Number.MAX_SAFE_INTEGER
const prepared = { prepare: true } as const

/**
 * An event row as the read statements select it, as a plain array (postgres.js `.values()`,
 * cheaper than an object per row): event_number, event_id, stream_uuid, stream_version,
 * event_type, data (jsonb as JSON text, or bytea as "\\x…" hex text), metadata, causation_id,
 * correlation_id, created_at (epoch milliseconds). The stream reads add `deleted` last; the
 * $all window read adds `last`, the last position committed.
 */
type EventRow = [number, string, string, number, string, string | null, string, string | null, string | null, number]
/** Where the stream reads put `deleted`, and the $all window read `last`. */
const DELETED = 10
const LAST = 10

/** Rows as arrays; `T` says what the statement's columns hold. */
async function values<T>(query: { values(): PromiseLike<unknown> }): Promise<T[]> {
  return (await query.values()) as T[]
}

/**
 * Runs a read. `signal` cancels its statement in PostgreSQL (which frees the connection),
 * and the read rejects.
 */
export async function runRead(sql: Sql, task: ReadTask, column: ColumnDataType = 'jsonb', signal?: AbortSignal): Promise<ReadResult> {
  const query: Query = (text, params) => cancelledBy(sql.unsafe(text, params as never[], prepared), signal) as never
  const { statements } = sql
  switch (task.op) {
    case 'read_stream': {
      const text = task.direction === 'forward' ? statements.read_stream_forward : statements.read_stream_backward
      const start = task.start === -1 ? END : task.start
      const rows = inReadOrder(await values<[...EventRow, boolean]>(query(text, [task.streamId, start, task.count])), task.direction)
      const first = rows[0]
      if (!first) return { status: 'not_found' }
      if (first[DELETED]) return { status: 'deleted' }
      // One row of NULL events when the stream has none from `start`.
      return { status: 'found', events: pageText(first[1] ? rows : [], column) }
    }
    case 'read_all': {
      const { rows, head } = await allRows(query, statements, task, task.filter ?? null)
      const events = pageText(rows, column)
      return head === null ? { status: 'found', events } : { status: 'filtered', events, head }
    }
    case 'read_all_window': {
      const rows = inReadOrder(await values<[...EventRow, number]>(query(statements.read_all_window, [task.start, task.end, task.count])), 'forward')
      const first = rows[0] as [...EventRow, number] // $all always exists
      return { status: 'window', events: pageText(first[0] === null ? [] : rows, column), last: first[LAST] }
    }
    case 'paginate': {
      const rows = await query<(InfoRow & { total: number })[]>(statements.paginate_streams, [task.pageSize, task.offset, task.sortBy, task.sortDir, task.pattern])
      return { status: 'page', rows: [...rows] }
    }
    case 'stream_info': {
      const [row] = await query<InfoRow[]>(statements.stream_info, [task.streamId])
      return { status: 'info', info: row ?? null }
    }
  }
}

/** A statement of the read, `T` its rows. */
type Query = <T extends readonly unknown[] = Record<string, unknown>[]>(text: string, params: unknown[]) => { values(): PromiseLike<unknown> } & PromiseLike<T>

/**
 * A page of $all as rows; with a filter, also the last position as of the read (`head`): a
 * short filtered page looked at everything up to it.
 */
async function allRows(query: Query, statements: Statements, task: { start: number; count: number; direction: Direction }, filter: ResolvedFilter | null): Promise<{ rows: EventRow[]; head: number | null }> {
  const start = task.start === -1 ? END : task.start
  if (!filter) {
    const text = task.direction === 'forward' ? statements.read_all_forward : statements.read_all_backward
    return { rows: await values<EventRow>(query(text, [start, task.count])), head: null }
  }
  const text = task.direction === 'forward' ? statements.read_all_filtered_forward : statements.read_all_filtered_backward
  const types = filter.eventTypes ? textArray(filter.eventTypes) : null
  const pattern = filter.streamPrefix === null ? null : prefixPattern(filter.streamPrefix)
  const rows = inReadOrder(await values<[...EventRow, number]>(query(text, [start, task.count, types, pattern])), task.direction)
  const first = rows[0] as [...EventRow, number] // one row at least: $all always exists
  return { rows: first[0] === null ? [] : (rows as unknown as EventRow[]), head: first[LAST] }
}

/**
 * A page of $all forward as events, for a reader on the thread that uses them (a
 * projection's batch): no page text is built and parsed, each event's data is parsed alone.
 */
export async function readAllEvents(sql: Pick<Sql, 'unsafe'>, statements: Statements, start: number, count: number, filter: ResolvedFilter | null, column: ColumnDataType): Promise<{ events: RecordedEvent[]; head: number | null }> {
  const query: Query = (text, params) => sql.unsafe(text, params as never[], prepared) as never
  const { rows, head } = await allRows(query, statements, { start, count, direction: 'forward' }, filter)
  // As parsePage gives them: jsonb parsed, bytea as its "\x…" text for decodeEvents.
  const stored = column === 'jsonb' ? (text: string | null): unknown => (text === null ? null : JSON.parse(text)) : (text: string | null): unknown => text
  const events = rows.map(([eventNumber, eventId, streamId, streamVersion, eventType, data, metadata, causationId, correlationId, createdAt]) => ({
    eventNumber,
    eventId,
    streamId,
    streamVersion,
    eventType,
    data: stored(data),
    metadata: stored(metadata) as Record<string, unknown>,
    causationId,
    correlationId,
    createdAt: new Date(createdAt),
  }))
  return { events, head }
}

/**
 * The rows of a statement without an outer ORDER BY (read_stream_forward.sql says why), in
 * the order asked for: as they came, unless a plan ever returns them otherwise. By event
 * number, the first column.
 */
export function inReadOrder<Row extends readonly [number, ...unknown[]]>(rows: Row[], direction: Direction): Row[] {
  const sign = direction === 'forward' ? 1 : -1
  for (let i = 1; i < rows.length; i += 1) {
    if (sign * ((rows[i] as Row)[0] - (rows[i - 1] as Row)[0]) < 0) return rows.slice().sort((a, b) => sign * (a[0] - b[0]))
  }
  return rows
}

/**
 * A page as one JSON text, built by concatenation: data and metadata arrive as JSON text and
 * are pasted in unparsed, so the only parse is the receiving thread's single JSON.parse
 * (cheaper for PostgreSQL than json_agg). Each event
 * is an array in EventRow's order, not an object: without its keys the text is a quarter
 * shorter, and parsing it and then making the objects (parsePage) is cheaper than parsing
 * the objects (benchmarks/README.md).
 */
function pageText(rows: readonly EventRow[] | readonly [...EventRow, boolean | number][], column: ColumnDataType): string {
  const stored = column === 'jsonb' ? (text: string | null) => text ?? 'null' : (text: string | null) => quote(text)
  const quoteOnce = quoteOnceEach() // stream ids and event types repeat within one text
  let json = '['
  for (let i = 0; i < rows.length; i += 1) {
    const [eventNumber, eventId, streamUuid, streamVersion, eventType, data, metadata, causationId, correlationId, createdAt] = rows[i] as EventRow
    json +=
      `${i === 0 ? '' : ','}[${eventNumber},"${eventId}",${quoteOnce(streamUuid)},${streamVersion},${quoteOnce(eventType)},` +
      `${stored(data)},${stored(metadata)},${uuidOrNull(causationId)},${uuidOrNull(correlationId)},${createdAt}]`
  }
  return `${json}]`
}

/** An event of a page as parsed: EventRow with data and metadata as JSON values. */
type PageEvent = [number, string, string, number, string, unknown, Record<string, unknown>, string | null, string | null, number]

/** Parses a page read by runRead into events; dates arrive as epoch milliseconds. */
export function parsePage(json: string): RecordedEvent[] {
  return (JSON.parse(json) as PageEvent[]).map(
    ([eventNumber, eventId, streamId, streamVersion, eventType, data, metadata, causationId, correlationId, createdAt]) => ({
      eventNumber,
      eventId,
      streamId,
      streamVersion,
      eventType,
      data,
      metadata,
      causationId,
      correlationId,
      createdAt: new Date(createdAt),
    }),
  )
}

/** A stream's row as the API's StreamInfo. */
export function toStreamInfo(row: InfoRow): StreamInfo {
  return {
    streamId: row.stream_uuid,
    streamVersion: row.stream_version,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    status: row.deleted_at ? 'deleted' : 'created',
  }
}
