// Deleting streams (= commanded's storage/delete_stream.ex): in the writer's order, under the
// same $all lock as appends, so a deletion and an append never interleave.
import { checkExpectedVersion } from '../expected_version.js'
import { errorFor, type EventStoreError } from '../errors.js'
import type { ExpectedVersion } from '../types.js'
import type { Sql } from './database.js'
import { textArray } from './arrays.js'

const prepared = { prepare: true } as const

interface StreamRow {
  stream_id: number
  stream_version: number
  deleted: boolean
}

/** Returns the error the deletion gets, or null once it is done. */
export async function deleteStream(sql: Sql, request: { streamId: string; expected: ExpectedVersion; mode: 'soft' | 'hard' }): Promise<EventStoreError | null> {
  const { streamId, expected, mode } = request
  const { statements } = sql
  return (await sql.begin(async (tx) => {
    const [, [row]] = await Promise.all([
      tx.unsafe(statements.lock_all_stream, [], prepared),
      tx.unsafe<StreamRow[]>(statements.query_streams, [textArray([streamId])], prepared),
    ])
    if (!row) return errorFor('stream_not_found', `stream "${streamId}" does not exist`, { streamId })
    // A soft-deleted stream may still be hard-deleted.
    const refused = checkExpectedVersion(streamId, expected, { exists: true, version: row.stream_version, deleted: row.deleted && mode === 'soft' })
    if (refused) return refused
    if (mode === 'soft') {
      await tx.unsafe(statements.soft_delete_stream, [row.stream_id], prepared)
    } else {
      await tx.unsafe(statements.allow_hard_delete, [], prepared)
      await tx.unsafe(statements.hard_delete_stream, [row.stream_id], prepared)
    }
    return null
  })) as EventStoreError | null
}
