// Piscina entry that hosts one subscription actor; the task lasts as long as the actor.
import { Caller } from '../lib/actors/calls.js'
import { ConnectionError } from '../lib/errors.js'
import { RemoteLocks } from '../lib/locks/remote.js'
import type { SubscriptionCallbacks, SubscriptionOutcome, SubscriptionTask } from '../lib/subscriptions/messages.js'
import { runSubscription } from './subscription/process.js'

export default function spawn({ spec, control, callbacks, feed, locks }: SubscriptionTask): Promise<SubscriptionOutcome> {
  const remote = callbacks ? new Caller<SubscriptionCallbacks>(callbacks, `the partitionBy call of subscription "${spec.name}"`) : null
  const lockSession = new RemoteLocks(locks)
  return runSubscription(spec, control, remote, feed, lockSession).finally(() => {
    remote?.close(new ConnectionError(`subscription "${spec.name}" stopped`))
    lockSession.close()
  })
}
