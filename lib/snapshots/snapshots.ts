// store.recordSnapshot / readSnapshot / deleteSnapshot: one snapshot per source, encoded with
// the store's codec, stored and read on the main thread's pool.
import { SnapshotNotFoundError } from '../errors.js'
import type { Query } from '../storage/query.js'
import type { Codec } from '../serializer.js'
import { recordedSnapshot, snapshotRow } from './codec.js'
import type { Sql } from '../storage/database.js'
import * as stored from '../storage/snapshots.js'
import type { CallOptions, RecordedSnapshot, SnapshotData } from '../types.js'
import { checkText } from '../validation.js'

export class Snapshots {
  readonly #sql: Sql
  readonly #codec: Codec
  readonly #query: Query

  constructor(sql: Sql, codec: Codec, query: Query) {
    this.#sql = sql
    this.#codec = codec
    this.#query = query
  }

  async record(snapshot: SnapshotData, call: CallOptions): Promise<void> {
    const row = snapshotRow(snapshot, this.#codec)
    // Aborted once sent, the snapshot may or may not be stored: recording it again is harmless.
    await this.#query(call, 'recording the snapshot', (signal) => stored.recordSnapshot(this.#sql, row, signal))
  }

  async read(sourceUuid: string, call: CallOptions): Promise<RecordedSnapshot> {
    const source = checkText(sourceUuid, 'sourceUuid')
    const row = await this.#query(call, 'reading the snapshot', (signal) => stored.readSnapshot(this.#sql, source, signal))
    if (!row) throw new SnapshotNotFoundError(`no snapshot of "${source}"`, { sourceUuid: source })
    return recordedSnapshot(row, this.#codec)
  }

  async delete(sourceUuid: string, call: CallOptions): Promise<void> {
    const source = checkText(sourceUuid, 'sourceUuid')
    await this.#query(call, 'deleting the snapshot', (signal) => stored.deleteSnapshot(this.#sql, source, signal))
  }
}
