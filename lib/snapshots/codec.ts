// Snapshots between the API's form and their stored row: checked and encoded with the store's
// serializer on the way in, decoded on the way out.
import { InvalidArgumentError } from '../errors.js'
import { type Codec, decodeStored, encodeTerm } from '../serializer.js'
import type { SnapshotRow } from '../storage/snapshots.js'
import type { RecordedSnapshot, SnapshotData } from '../types.js'
import { checkPlainObject, checkPosition, checkText } from '../validation.js'

/** The row to store for `snapshot`; refuses bad input before anything is written. */
export function snapshotRow(snapshot: SnapshotData, codec: Codec): Omit<SnapshotRow, 'created_at'> {
  const s = checkPlainObject(snapshot, 'snapshot') as unknown as SnapshotData
  if (s.data === undefined) throw new InvalidArgumentError('snapshot.data is missing')
  const sourceType = checkText(s.sourceType, 'snapshot.sourceType')
  const metadata = s.metadata === undefined || s.metadata === null ? {} : checkPlainObject(s.metadata, 'snapshot.metadata')
  return {
    source_uuid: checkText(s.sourceUuid, 'snapshot.sourceUuid'),
    source_version: checkPosition(s.sourceVersion, 'snapshot.sourceVersion'),
    source_type: sourceType,
    data: storedValue(codec, encodeTerm(codec, s.data, 'snapshot.data', sourceType)),
    metadata: storedValue(codec, encodeTerm(codec, metadata, 'snapshot.metadata', sourceType)),
  }
}

export function recordedSnapshot(row: SnapshotRow, codec: Codec): RecordedSnapshot {
  return {
    sourceUuid: row.source_uuid,
    sourceVersion: row.source_version,
    sourceType: row.source_type,
    data: decodeStored(codec, row.data, row.source_type),
    metadata: decodeStored(codec, row.metadata, row.source_type) as Record<string, unknown>,
    createdAt: row.created_at,
  }
}

/** An encoded fragment (see encodeTerm) as the value a jsonb or bytea parameter takes. */
function storedValue(codec: Codec, fragment: string): unknown {
  const parsed = JSON.parse(fragment)
  return codec.column === 'bytea' ? Buffer.from(parsed as string, 'base64') : parsed
}
