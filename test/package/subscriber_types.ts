// What subscribers' types promise (README, Subscriptions), checked by the compiler alone: never
// run, compiled by `npm run typecheck` and by test/package/readme_examples.test.ts. Each
// `@ts-expect-error` fails the compilation once its line stops being an error.
import type { EventStore, ModuleSubscriber, RecordedEvent, Subscriber, Subscription } from '../../lib/index.js'

declare const store: EventStore
/** True only when A and B are the same type (not merely assignable). */
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false

// Without a mapper: RecordedEvents, and ack takes them back, or their numbers.
const plain = await store.subscribeToAllStreams('plain', async (message) => {
  if (message.type !== 'events') return
  true satisfies Same<typeof message.events, RecordedEvent[]>
  message.subscription.ack(message.events)
  message.subscription.ack(message.events[0]!)
  message.subscription.ack(message.events[0]!.eventNumber)
  // @ts-expect-error a string is not an acknowledgement
  message.subscription.ack('nonsense')
  // @ts-expect-error nor is an object that is not an event
  message.subscription.ack({})
  // @ts-expect-error events have no such field
  void message.events[0]!.nope
})
true satisfies Same<typeof plain, Subscription<RecordedEvent>>

// With a mapper (its parameter annotated): what it returns, which ack takes back.
const mapped = await store.subscribeToStream('order-1', 'totals', async (message) => {
  if (message.type !== 'events') return
  true satisfies Same<typeof message.events, { total: number }[]>
  message.subscription.ack(message.events)
  // @ts-expect-error the mapped values are no events
  void message.events[0]!.eventType
}, { mapper: (event: RecordedEvent) => ({ total: (event.data as { total: number }).total }) })
mapped.ack({ total: 1 })
// @ts-expect-error
mapped.ack('nonsense')

// A mapper to primitives: they can't be acked (ack throws), their event numbers can.
await store.subscribeToAllStreams('types', async (message) => {
  if (message.type !== 'events') return
  true satisfies Same<typeof message.events, string[]>
  // @ts-expect-error
  message.subscription.ack(message.events)
}, { mapper: (event: RecordedEvent) => event.eventType })

// The mapper's parameter unannotated: TypeScript types the subscriber first, so nothing is
// known of what is delivered; any object may be acked (checked at runtime).
await store.subscribeToAllStreams('unknown', async (message) => {
  if (message.type !== 'events') return
  true satisfies Same<typeof message.events, unknown[]>
  message.subscription.ack(message.events)
}, { mapper: (event) => event.data })

// A subscriber declared apart gives T itself.
const counter: Subscriber<{ n: number }> = async (message) => {
  if (message.type === 'events') message.subscription.ack(message.events)
}
await store.subscribeToAllStreams('counter', counter, { mapper: (event) => ({ n: event.eventNumber }) })
// @ts-expect-error it needs the mapper that makes its values
await store.subscribeToAllStreams('counter', counter)

// Transient subscriptions.
await store.subscribe('$all', (event) => {
  true satisfies Same<typeof event, RecordedEvent>
})
await store.subscribe('$all', (id) => {
  true satisfies Same<typeof id, string>
}, { mapper: (event: RecordedEvent) => event.eventId })
// @ts-expect-error events have no such field
await store.subscribe('order-1', (event) => void event.nope)

// Actor modules: their default export's type.
export const project: ModuleSubscriber = async (message, subscription) => {
  if (message.type !== 'events') return
  true satisfies Same<typeof message.events, RecordedEvent[]>
  subscription.ack(message.events)
  // @ts-expect-error
  subscription.ack('nonsense')
}
const moduleHandle = await store.subscribeToAllStreams('module', new URL('./project.js', import.meta.url), { bufferSize: 10 })
await moduleHandle.unsubscribe()
// @ts-expect-error a module acks from its own thread, through the subscription its function receives
moduleHandle.ack(1)
// @ts-expect-error a module exports its selector and mapper
await store.subscribeToStream('order-1', 'module', './project.js', { selector: () => true })
// @ts-expect-error
await store.subscribeToAllStreams('module', './project.js', { mapper: (event: RecordedEvent) => event.eventId })

// Projections get RecordedEvents.
await store.project('projection', async (events) => {
  true satisfies Same<typeof events, RecordedEvent[]>
})
