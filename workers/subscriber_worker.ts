// The task that runs one actor-module subscriber, alone on a thread of its own
// (lib/subscriptions/module_subscriber.ts): user code that throws, hangs or calls
// process.exit reaches nothing of the store's. The module default-exports a ModuleSubscriber,
// (message, subscription) => void | Promise<void>, and may export `selector` and `mapper`.
// It posts { type: 'loaded' } on `status` once the module is loaded; the task resolves when
// the subscription is over.
import { toWire } from '../lib/errors.js'
import type { ModuleOutcome, ModuleStatus, ModuleSubscriberTask } from '../lib/subscriptions/messages.js'
import type { ModuleSubscriber, ModuleSubscription } from '../lib/subscriptions/subscriber.js'
import { type EndpointOptions, SubscriberEndpoint } from '../lib/subscriptions/subscriber_endpoint.js'
import { schema, threadCodec } from './context.js'

/** What the module is delivered depends on its own mapper, which this thread doesn't know. */
type Handler = ModuleSubscriber<unknown>

export default async function host({ port, status, moduleUrl, streamId, name }: ModuleSubscriberTask): Promise<ModuleOutcome> {
  let module: { default?: Handler; selector?: EndpointOptions['selector']; mapper?: EndpointOptions['mapper'] }
  try {
    module = await import(moduleUrl)
    if (typeof module.default !== 'function') throw new TypeError(`${moduleUrl} does not default-export a subscriber function`)
  } catch (error) {
    port.close()
    status.close()
    return { type: 'load_failed', error: toWire(error) }
  }
  const handler = module.default as Handler
  const subscription: ModuleSubscription<unknown> = { streamId, name, ack: (acknowledgement) => endpoint.ack(acknowledgement) }
  const endpoint: SubscriberEndpoint<ModuleSubscription<unknown>> = new SubscriberEndpoint(port, (message) => handler(message, subscription), () => subscription, {
    selector: module.selector,
    mapper: module.mapper,
    codec: await threadCodec(),
    label: { schema, streamId, name },
  })
  status.postMessage({ type: 'loaded' } satisfies ModuleStatus)
  status.close()
  const end = await endpoint.ended
  return { type: 'ended', reason: end.reason, error: end.error ? toWire(end.error) : null }
}
