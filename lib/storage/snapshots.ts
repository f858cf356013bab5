// Snapshots (= commanded's storage/snapshot.ex): one per source, replaced by newer ones.
import { cancelledBy, type Sql } from './database.js'

export interface SnapshotRow {
  source_uuid: string
  source_version: number
  source_type: string
  /** As the column holds it: a parsed jsonb value or a Buffer (see lib/serializer.ts). */
  data: unknown
  metadata: unknown
  created_at: Date
}

const prepared = { prepare: true } as const

export async function recordSnapshot(sql: Sql, row: Omit<SnapshotRow, 'created_at'>, signal?: AbortSignal): Promise<void> {
  const params = [row.source_uuid, row.source_version, row.source_type, row.data, row.metadata] as never[]
  await cancelledBy(sql.unsafe(sql.statements.snapshot_record, params, prepared), signal)
}

export async function readSnapshot(sql: Sql, sourceUuid: string, signal?: AbortSignal): Promise<SnapshotRow | null> {
  const [row] = await cancelledBy(sql.unsafe<SnapshotRow[]>(sql.statements.snapshot_read, [sourceUuid], prepared), signal)
  return row ?? null
}

export async function deleteSnapshot(sql: Sql, sourceUuid: string, signal?: AbortSignal): Promise<void> {
  await cancelledBy(sql.unsafe(sql.statements.snapshot_delete, [sourceUuid], prepared), signal)
}
