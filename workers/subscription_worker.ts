// Piscina entry that hosts one subscription actor; the task lasts as long as the actor.
import { Caller } from '../lib/actors/calls.js'
import { ConnectionError } from '../lib/errors.js'
import type { SubscriptionCallbacks, SubscriptionOutcome, SubscriptionTask } from '../lib/subscriptions/messages.js'
import { runSubscription } from './subscription/process.js'

export default function spawn({ spec, control, callbacks, feed }: SubscriptionTask): Promise<SubscriptionOutcome> {
  const remote = callbacks ? new Caller<SubscriptionCallbacks>(callbacks, `the partitionBy call of subscription "${spec.name}"`) : null
  return runSubscription(spec, control, remote, feed).finally(() => remote?.close(new ConnectionError(`subscription "${spec.name}" stopped`)))
}
