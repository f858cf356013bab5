// Piscina entry that hosts one subscription actor; the task lasts as long as the actor.
import type { MessagePort } from 'node:worker_threads'
import * as Comlink from 'comlink'
import type { SubscriptionCallbacks, SubscriptionOutcome, SubscriptionSpec } from '../lib/subscriptions/messages.js'
import { runSubscription } from './subscription/process.js'

export interface SpawnSubscription {
  spec: SubscriptionSpec
  control: MessagePort
  callbacks: MessagePort | null
  feed: MessagePort
}

export default function spawn({ spec, control, callbacks, feed }: SpawnSubscription): Promise<SubscriptionOutcome> {
  const remote = callbacks ? Comlink.wrap<SubscriptionCallbacks>(callbacks as unknown as Comlink.Endpoint) : null
  return runSubscription(spec, control, remote, feed).finally(() => callbacks?.close())
}
