// A statement the main thread runs on the store's pool under the caller's { signal, timeout }:
// refused once the store stops, cancelled in PostgreSQL when the caller gives up, and any
// failure turned into the store's typed errors.
import { cancellable } from '../actors/cancellable.js'
import { ConnectionError } from '../errors.js'
import type { CallOptions } from '../types.js'
import { toEventStoreError } from './pg_errors.js'

export type Query = <T>(call: CallOptions, what: string, work: (signal: AbortSignal | undefined) => Promise<T>) => Promise<T>

export function mainThreadQuery(schema: string, stopped: () => boolean): Query {
  return async (call, what, work) => {
    if (stopped()) throw new ConnectionError('the event store has been stopped')
    try {
      return await cancellable(call, what, work)
    } catch (error) {
      throw toEventStoreError(error, schema)
    }
  }
}
