// Subscription options (README, Subscriptions): defaults, checks, and the split
// between plain settings (sent to the actor) and functions (kept in the subscriber's thread).
import { describe } from '../expected_version.js'
import { InvalidArgumentError } from '../errors.js'
import type { CallOptions, RecordedEvent } from '../types.js'
import { checkCount, checkPlainObject } from '../validation.js'
import { checkFilter, type EventFilter, type ResolvedFilter } from '../filter.js'

/** `T`: what the subscriber is delivered, the events themselves unless a `mapper` says otherwise. */
export interface SubscriptionOptions<T = RecordedEvent> {
  /** `'origin'` (default), `'current'`, or N: deliver from N + 1. Ignored once the subscription exists. */
  startFrom?: 'origin' | 'current' | number
  selector?: (event: RecordedEvent) => boolean
  /** Delivered instead of the event. Annotate its parameter (`(event: RecordedEvent) => …`) for TypeScript to infer `T` from it. */
  mapper?: (event: RecordedEvent) => T
  /** Subscribers that may share the subscription; default 1. */
  concurrencyLimit?: number
  partitionBy?: (event: RecordedEvent) => unknown
  /** Unacknowledged events per subscriber; default 1. */
  bufferSize?: number
  /** Events held in memory / read per catch-up page; default 1000. */
  maxSize?: number
  /** Acknowledged events per checkpoint write; default 1. */
  checkpointThreshold?: number
  /** Milliseconds after which pending acknowledgements are stored anyway; default 0 (off). */
  checkpointAfter?: number
  /** Keep no checkpoint in the database; default false. */
  transient?: boolean
  /** $all only: deliver only events of these types or streams, chosen by PostgreSQL; the checkpoint moves past the others. */
  filter?: EventFilter
  /** Stops the subscription in this store when it aborts (as unsubscribe does; the checkpoint is kept). */
  signal?: AbortSignal
}

/** Options of an actor module's subscription: the module exports its own selector and mapper. */
export type ModuleSubscriptionOptions = Omit<SubscriptionOptions, 'selector' | 'mapper'>

/** Options of a transient subscription (`store.subscribe`). */
export type TransientSubscriptionOptions<T = RecordedEvent> = Pick<SubscriptionOptions<T>, 'selector' | 'mapper' | 'filter'> & CallOptions

export interface ResolvedOptions {
  startFrom: number
  concurrencyLimit: number
  bufferSize: number
  maxSize: number
  checkpointThreshold: number
  checkpointAfter: number
  transient: boolean
  selector: ((event: RecordedEvent) => boolean) | undefined
  mapper: ((event: RecordedEvent) => unknown) | undefined
  partitionBy: ((event: RecordedEvent) => unknown) | undefined
  filter: ResolvedFilter | null
  signal: AbortSignal | undefined
}

const known = new Set(['startFrom', 'selector', 'mapper', 'concurrencyLimit', 'partitionBy', 'bufferSize', 'maxSize', 'checkpointThreshold', 'checkpointAfter', 'transient', 'filter', 'signal'])

function optionalFunction<F>(value: unknown, name: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new InvalidArgumentError(`options.${name} must be a function; got ${describe(value)}`)
  return value as F
}

export function resolveOptions(options: SubscriptionOptions<unknown> | undefined): ResolvedOptions {
  const o = options === undefined ? {} : (checkPlainObject(options, 'options') as SubscriptionOptions<unknown>)
  for (const key of Object.keys(o)) if (!known.has(key)) throw new InvalidArgumentError(`unknown subscription option "${key}"`)
  let startFrom: number
  if (o.startFrom === undefined || o.startFrom === 'origin') startFrom = 0
  else if (o.startFrom === 'current') startFrom = -1
  else if (typeof o.startFrom === 'number' && Number.isSafeInteger(o.startFrom) && o.startFrom >= 0) startFrom = o.startFrom
  else throw new InvalidArgumentError(`options.startFrom must be 'origin', 'current' or a non-negative integer; got ${describe(o.startFrom)}`)
  if (o.checkpointAfter !== undefined && !(Number.isSafeInteger(o.checkpointAfter) && o.checkpointAfter >= 0)) {
    throw new InvalidArgumentError(`options.checkpointAfter must be a non-negative integer (ms); got ${describe(o.checkpointAfter)}`)
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new InvalidArgumentError(`options.signal must be an AbortSignal; got ${describe(o.signal)}`)
  if (o.transient !== undefined && typeof o.transient !== 'boolean') {
    throw new InvalidArgumentError(`options.transient must be a boolean; got ${describe(o.transient)}`)
  }
  return {
    startFrom,
    concurrencyLimit: checkCount(o.concurrencyLimit ?? 1, 'options.concurrencyLimit'),
    bufferSize: checkCount(o.bufferSize ?? 1, 'options.bufferSize'),
    maxSize: checkCount(o.maxSize ?? 1000, 'options.maxSize'),
    checkpointThreshold: checkCount(o.checkpointThreshold ?? 1, 'options.checkpointThreshold'),
    checkpointAfter: o.checkpointAfter ?? 0,
    transient: o.transient ?? false,
    selector: optionalFunction(o.selector, 'selector'),
    mapper: optionalFunction(o.mapper, 'mapper'),
    partitionBy: optionalFunction(o.partitionBy, 'partitionBy'),
    filter: checkFilter(o.filter, 'options.filter'),
    signal: o.signal,
  }
}
