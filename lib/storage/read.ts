// Reads (= commanded storage/reader.ex), run inside reader workers. A page leaves the
// database as one JSON text (see sql/statements/read_stream_forward.sql), so it crosses
// to the main thread as a single string instead of a structured clone of many objects.
import type { RecordedEvent } from '../types.js'
import type { Sql } from './database.js'
import { statements } from './statements.js'

export type Direction = 'forward' | 'backward'

export type ReadTask =
  | { op: 'read_stream'; streamId: string; start: number; count: number; direction: Direction }
  | { op: 'read_all'; start: number; count: number; direction: Direction }
  | { op: 'stream_info'; streamId: string }
  | { op: 'paginate'; pageSize: number; offset: number; sortBy: SortBy; sortDir: 'asc' | 'desc'; pattern: string }

export type SortBy = 'streamId' | 'streamVersion' | 'createdAt' | 'deletedAt'

export type ReadResult =
  /** The page as JSON text straight from PostgreSQL, data and metadata as stored. */
  | { status: 'found'; events: string }
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

export async function runRead(sql: Sql, task: ReadTask): Promise<ReadResult> {
  switch (task.op) {
    case 'read_stream': {
      const text = task.direction === 'forward' ? statements.read_stream_forward : statements.read_stream_backward
      const start = task.start === -1 ? END : task.start
      const [row] = await sql.unsafe<{ deleted: boolean; events: string }[]>(text, [task.streamId, start, task.count], prepared)
      if (!row) return { status: 'not_found' }
      if (row.deleted) return { status: 'deleted' }
      return { status: 'found', events: row.events }
    }
    case 'read_all': {
      const text = task.direction === 'forward' ? statements.read_all_forward : statements.read_all_backward
      const start = task.start === -1 ? END : task.start
      const [row] = await sql.unsafe<{ events: string }[]>(text, [start, task.count], prepared)
      return { status: 'found', events: row?.events ?? '[]' }
    }
    case 'paginate': {
      const rows = await sql.unsafe<(InfoRow & { total: number })[]>(
        statements.paginate_streams,
        [task.pageSize, task.offset, task.sortBy, task.sortDir, task.pattern],
        prepared,
      )
      return { status: 'page', rows: [...rows] }
    }
    case 'stream_info': {
      const [row] = await sql.unsafe<InfoRow[]>(statements.stream_info, [task.streamId], prepared)
      return { status: 'info', info: row ?? null }
    }
  }
}

/** Parses a page read by runRead; dates arrive as ISO strings. */
export function parsePage(json: string): RecordedEvent[] {
  const events = JSON.parse(json) as (Omit<RecordedEvent, 'createdAt'> & { createdAt: string | Date })[]
  for (const event of events) event.createdAt = new Date(event.createdAt)
  return events as RecordedEvent[]
}

