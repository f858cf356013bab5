// A persistent subscription (store.subscribeToAllStreams / subscribeToStream): its arguments
// checked, then started by Subscriptions; a `signal` in its options stops it when it aborts.
import { AbortedError, InvalidArgumentError } from '../errors.js'
import { describe } from '../expected_version.js'
import type { Report } from '../reports.js'
import { ALL_STREAM } from '../types.js'
import { checkText, checkWritableStreamId } from '../validation.js'
import type { Subscription } from './handle.js'
import { resolveOptions, type SubscriptionOptions } from './options.js'
import { stopOnAbort } from './stop_on_abort.js'
import { type SubscriberOrModule, type Subscriptions, TRANSIENT_PREFIX } from './subscribe.js'

/** The stream of store.subscribeToStream: one stream, not $all, and no filter (filters apply to $all). */
export function checkSubscribedStream(streamId: string, options: SubscriptionOptions<unknown> | undefined): string {
  if (streamId === ALL_STREAM) throw new InvalidArgumentError('to subscribe to $all, use subscribeToAllStreams')
  if (options?.filter !== undefined) throw new InvalidArgumentError('filters apply to $all: use subscribeToAllStreams with filter (for example streamPrefix)')
  return checkWritableStreamId(streamId)
}

/** `streamId` arrives checked; `upcastersAreFunctions` when the store's upcasters are given as functions. */
export async function subscribePersistent(
  subscriptions: Subscriptions,
  streamId: string,
  name: string,
  subscriber: SubscriberOrModule,
  options: SubscriptionOptions<unknown> | undefined,
  upcastersAreFunctions: boolean,
  report: Report,
): Promise<Subscription<unknown>> {
  const subscriptionName = checkText(name, 'subscription name')
  if (subscriptionName.startsWith(TRANSIENT_PREFIX)) throw new InvalidArgumentError(`subscription names starting with ${TRANSIENT_PREFIX} are reserved`)
  if (typeof subscriber !== 'function' && typeof subscriber !== 'string' && !(subscriber instanceof URL)) {
    throw new InvalidArgumentError(`subscriber must be a function or the URL or path of an actor module; got ${describe(subscriber)}`)
  }
  const resolved = resolveOptions(options)
  if (typeof subscriber !== 'function' && (resolved.selector || resolved.mapper)) {
    throw new InvalidArgumentError('an actor-module subscriber runs in a worker: export selector and mapper from the module instead of passing them')
  }
  if (typeof subscriber !== 'function' && upcastersAreFunctions) {
    throw new InvalidArgumentError('an actor-module subscriber runs on a thread of its own, which functions cannot reach: give upcasters as the URL or path of a module to use both')
  }
  const { signal } = resolved
  if (signal?.aborted) throw new AbortedError('the subscription was aborted before it started', { reason: String(signal.reason) })
  const subscription = await subscriptions.subscribe(streamId, subscriptionName, subscriber, resolved)
  if (signal) stopOnAbort(signal, subscription, report)
  return subscription
}
