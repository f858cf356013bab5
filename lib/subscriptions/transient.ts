// A transient subscription (store.subscribe): new events only, no acknowledgements, no
// checkpoint; it resolves once live, so that every event appended after the call is delivered.
import { randomUUID } from 'node:crypto'
import { cancellable } from '../actors/cancellable.js'
import type { Report } from '../reports.js'
import { AbortedError, InvalidArgumentError } from '../errors.js'
import { describe } from '../expected_version.js'
import { ALL_STREAM } from '../types.js'
import { checkCallOptions, checkPlainObject } from '../validation.js'
import { resolveOptions, type TransientSubscriptionOptions } from './options.js'
import { stopOnAbort } from './stop_on_abort.js'
import { type Subscriptions, TRANSIENT_PREFIX } from './subscribe.js'

/**
 * Starts it and resolves to the function that stops it; `options.signal` stops it whenever it
 * aborts, `options.timeout` bounds the wait until it is live. `stream` arrives checked.
 */
export async function subscribeTransient<T>(
  subscriptions: Subscriptions,
  stream: string,
  handler: (event: T) => void | Promise<void>,
  options: TransientSubscriptionOptions<T>,
  report: Report,
): Promise<() => Promise<void>> {
  if (typeof handler !== 'function') throw new InvalidArgumentError(`handler must be a function; got ${describe(handler)}`)
  const { selector, mapper, filter, signal, timeout } = checkPlainObject(options, 'options') as TransientSubscriptionOptions<T>
  if (filter !== undefined && stream !== ALL_STREAM) throw new InvalidArgumentError('filters apply to $all: subscribe to $all with filter (for example streamPrefix)')
  const call = checkCallOptions({ signal, timeout })
  if (signal?.aborted) throw new AbortedError('the subscription was aborted before it started', { reason: String(signal.reason) })
  const resolved = resolveOptions({ selector, mapper, filter, startFrom: 'current', transient: true, bufferSize: 1000 })
  const name = `${TRANSIENT_PREFIX}${randomUUID()}`
  let live: () => void = () => {}
  const subscribed = new Promise<void>((resolve) => {
    live = resolve
  })
  const subscription = await subscriptions.subscribe(
    stream,
    name,
    async (message) => {
      if (message.type === 'subscribed') live()
      // The mapper's values, or the events when there is none: T, as the overloads say.
      else for (const event of message.events) await handler(event as T)
    },
    resolved,
    true,
  )
  if (call.signal) stopOnAbort(call.signal, subscription, report)
  try {
    await cancellable(call, 'subscribing', () => Promise.race([subscribed, subscription.closed]))
  } catch (error) {
    await subscription.unsubscribe()
    throw error
  }
  return () => subscription.unsubscribe()
}
