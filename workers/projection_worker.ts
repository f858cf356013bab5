// The task that runs one actor-module projection, alone on a thread of its own with its own
// connections (lib/projections/module_projection.ts). The module default-exports
// (events, tx) => void | Promise<void>, as a projection function does; the guarantees are the
// same, since they come from the transaction. The task ends when the projection does.
import { workerData } from 'node:worker_threads'
import type { WorkerContextData } from '../lib/actors/pool.js'
import { toWire } from '../lib/errors.js'
import { RemoteLocks } from '../lib/locks/remote.js'
import type { ProjectionControl, ProjectionOutcome, ProjectionStatus, ProjectionTask } from '../lib/projections/messages.js'
import { Projection, type ProjectionHandler } from '../lib/projections/projection.js'
import { openListenSession, openProjectionPool } from '../lib/storage/connections.js'
import { closeDatabase } from '../lib/storage/database.js'
import { report, threadCodec } from './context.js'

export default async function runProjection({ name, moduleUrl, options, control, locks: lockPort }: ProjectionTask): Promise<ProjectionOutcome> {
  let handler: ProjectionHandler
  try {
    const module = (await import(moduleUrl)) as { default?: unknown }
    if (typeof module.default !== 'function') throw new TypeError(`${moduleUrl} does not default-export a projection function (events, tx)`)
    handler = module.default as ProjectionHandler
  } catch (error) {
    control.close()
    lockPort.close()
    return { type: 'load_failed', error: toWire(error) }
  }
  const locks = new RemoteLocks(lockPort)
  const data = workerData as WorkerContextData
  const sql = openProjectionPool(data)
  const listenOn = openListenSession(data)
  const projection = new Projection(name, handler, options, { ...data, sql, listenOn, locks, codec: await threadCodec(), report })
  control.on('message', (message: ProjectionControl) => {
    if (message.type === 'stop') void projection.stop()
  })
  control.postMessage({ type: 'started' } satisfies ProjectionStatus)
  const end = await projection.closed
  control.close()
  locks.close()
  await Promise.all([closeDatabase(sql), closeDatabase(listenOn)])
  return { type: 'ended', reason: end.reason, error: end.error ? toWire(end.error) : null }
}
