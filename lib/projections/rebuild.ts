// store.rebuildProjection: the projection's checkpoint sent back to the first event, with the
// user's `reset(tx)` clearing its read model in the same transaction.
import { InvalidArgumentError, SubscriptionNotFoundError } from '../errors.js'
import { describe } from '../expected_version.js'
import type { Query } from '../storage/query.js'
import type { Sql } from '../storage/database.js'
import type { CallOptions } from '../types.js'
import { checkCallOptions, checkPlainObject, checkText } from '../validation.js'
import type { ClearReadModel } from '../storage/projections.js'
import { resetProjection } from './projection.js'

export interface RebuildOptions extends CallOptions {
  reset?: ClearReadModel
}

export async function rebuildProjection(sql: Sql, query: Query, name: string, options: RebuildOptions): Promise<void> {
  const projectionName = checkText(name, 'projection name')
  const { reset, signal, timeout } = checkPlainObject(options, 'options') as { reset?: unknown } & CallOptions
  if (reset !== undefined && typeof reset !== 'function') throw new InvalidArgumentError(`options.reset must be a function (tx); got ${describe(reset)}`)
  const found = await query(checkCallOptions({ signal, timeout }), 'rebuilding the projection', (cancel) =>
    resetProjection(sql, projectionName, reset as ClearReadModel | undefined, cancel),
  )
  if (!found) throw new SubscriptionNotFoundError(`no projection "${projectionName}"`, { name: projectionName })
}
