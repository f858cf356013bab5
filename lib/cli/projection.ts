// `pg-eventstore projection status|reset|rebuild NAME`: a projection seen and sent back to the
// start from a shell. The read model is the application's: `--reset-sql` clears it in the
// same transaction that sends the checkpoint back. `rebuild` then follows the replay.
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventStoreConfig } from '../config.js'
import { EventStore } from '../event_store.js'
import { withDatabase } from '../store/startup.js'
import { InvalidArgumentError, SubscriptionNotFoundError } from '../errors.js'
import { PROJECTION_PREFIX, resetProjection } from '../projections/projection.js'
import type { SubscriptionStatus } from '../observability/status.js'
import { clearWithSql } from '../storage/projections.js'
import { interrupted, subscriptionTable } from './observe.js'
import type { Output } from './output.js'
import { Progress } from './progress.js'

const FOLLOW_EVERY_MS = 500

export async function projectionCommand(config: EventStoreConfig, action: string, name: string, resetSql: string | undefined, out: Output, progressTo: Output): Promise<string> {
  if (action === 'status') {
    const status = await projectionStatus(config, name)
    return subscriptionTable([status], out.isTTY)
  }
  if (action !== 'reset' && action !== 'rebuild') throw new InvalidArgumentError(`projection takes status, reset or rebuild; got ${JSON.stringify(action)}`)
  if (resetSql === undefined) {
    throw new InvalidArgumentError(`${action} replays every event into the read model: give --reset-sql with the SQL that clears it (it runs in the same transaction), or --reset-sql "" if the projection rebuilds over what is there`)
  }
  const found = await withDatabase(config, (sql) => resetProjection(sql, name, resetSql === '' ? undefined : clearWithSql(resetSql)))
  if (!found) throw new SubscriptionNotFoundError(`no projection "${name}"`, { name })
  if (action === 'reset') return `projection "${name}" will replay from the first event${resetSql ? ', its read model cleared' : ''}`
  return follow(config, name, progressTo)
}

async function projectionStatus(config: EventStoreConfig, name: string): Promise<SubscriptionStatus> {
  const store = await EventStore.start({ ...config, workers: 1, poolSize: 2, openTelemetry: false })
  try {
    const status = (await store.status()).subscriptions.find((s) => s.streamId === '$all' && s.name === `${PROJECTION_PREFIX}${name}`)
    if (!status) throw new SubscriptionNotFoundError(`no projection "${name}"`, { name })
    return status
  } finally {
    await store.stop()
  }
}

/** Shows the replay until it has caught up (or Ctrl-C); it needs a process running the projection. */
async function follow(config: EventStoreConfig, name: string, progressTo: Output): Promise<string> {
  const stop = interrupted()
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  let status = await projectionStatus(config, name)
  if (!status.holder) return `projection "${name}" was reset; no process runs it now: it rebuilds once one does`
  const progress = new Progress(progressTo, 'events', status.head)
  let done = 0
  while (!stopped && status.lag.events > 0) {
    await Promise.race([sleep(FOLLOW_EVERY_MS), stop])
    status = await projectionStatus(config, name)
    progress.advance(Math.max(0, status.checkpoint - done))
    done = Math.max(done, status.checkpoint)
  }
  progress.done()
  return stopped ? `stopped following; projection "${name}" is at ${status.checkpoint} of ${status.head}` : `projection "${name}" rebuilt: ${status.checkpoint} events`
}
