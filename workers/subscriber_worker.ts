// Piscina entry that runs an actor-module subscriber in the worker pool, so CPU-heavy
// projections run beside the main thread. The module default-exports
// (message, subscription) => void | Promise<void>, and may export `selector` and `mapper`.
import type { MessagePort } from 'node:worker_threads'
import { type EndpointEnd, type EndpointOptions, SubscriberEndpoint, type SubscriptionEvent } from '../lib/subscriptions/subscriber_endpoint.js'
import { toWire, type WireError } from '../lib/errors.js'
import type { SubscriberReply } from '../lib/subscriptions/messages.js'
import { threadCodec } from './context.js'

export interface HostSubscriber {
  port: MessagePort
  moduleUrl: string
  streamId: string
  name: string
}

/** What an actor module's second argument offers. */
export interface ModuleSubscription {
  readonly streamId: string
  readonly name: string
  ack(acknowledgement: unknown): void
}

type Handler = (message: SubscriptionEvent<ModuleSubscription>, subscription: ModuleSubscription) => unknown

export default async function host({ port, moduleUrl, streamId, name }: HostSubscriber): Promise<{ reason: EndpointEnd['reason']; error: WireError | null }> {
  let module: { default?: Handler; selector?: EndpointOptions['selector']; mapper?: EndpointOptions['mapper'] }
  try {
    module = await import(moduleUrl)
    if (typeof module.default !== 'function') throw new TypeError(`${moduleUrl} does not default-export a subscriber function`)
  } catch (error) {
    // Tell the actor why this subscriber is gone, as a subscriber that threw would.
    const wire = toWire(error)
    port.postMessage({ type: 'failed', error: wire } satisfies SubscriberReply)
    port.close()
    return { reason: 'error', error: wire }
  }
  const handler = module.default as Handler
  const subscription: ModuleSubscription = { streamId, name, ack: (acknowledgement) => endpoint.ack(acknowledgement) }
  const endpoint: SubscriberEndpoint<ModuleSubscription> = new SubscriberEndpoint(port, (message) => handler(message, subscription), () => subscription, {
    selector: module.selector,
    mapper: module.mapper,
    codec: await threadCodec(),
  })
  const end = await endpoint.ended
  return { reason: end.reason, error: end.error ? toWire(end.error) : null }
}
