// The projections running in one store: each name once, a function run on this thread or an
// actor module on a thread of its own; stopped together at the store's stop().
import type { Query } from '../storage/query.js'
import { type RebuildOptions, rebuildProjection } from './rebuild.js'
import type { WorkerContextData } from '../actors/pool.js'
import type { Locks } from '../locks/lock_session.js'
import type { ConnectionTarget } from '../storage/connections.js'
import { ConnectionError, InvalidArgumentError, SubscriptionAlreadyExistsError } from '../errors.js'
import type { Report } from '../reports.js'
import type { Codec } from '../serializer.js'
import type { Sql } from '../storage/database.js'
import { startModuleProjection } from './module_projection.js'
import { describe } from '../expected_version.js'
import { checkText } from '../validation.js'
import {
  Projection,
  PROJECTION_PREFIX,
  type ProjectionHandle,
  type ProjectionHandler,
  type ProjectOptions,
  type ResolvedProjectOptions,
  resolveProjectOptions,
  type RunningProjection,
} from './projection.js'

export interface ProjectionHost {
  sql: Sql
  /** The store's LISTEN session. */
  listenOn: Sql
  /** The store's lock session. */
  locks: Locks
  /** The connection strings with their passwords: projections open connections of their own. */
  target: ConnectionTarget
  codec: Codec
  /** Upcasters as configured: functions (an array) cannot reach a module's thread. */
  upcasters: unknown
  /** What a module projection's thread starts with. */
  context: WorkerContextData
  report: Report
  /** Connections left for projections in the store's budget (maxConnections). */
  room: number
}

/**
 * What a projection may open: its batch connection; on a thread of its own also the thread's
 * pool and its LISTEN session.
 */
const connectionsOf = (handler: unknown): number => (typeof handler === 'function' ? 1 : 3)

export class Projections {
  readonly #host: ProjectionHost
  readonly #running = new Set<RunningProjection>()
  readonly #names = new Set<string>()
  /** Connections the running projections may open, of the host's room. */
  #taken = 0
  /** Actor-module projections running: each has a LISTEN session of its own. */
  #modules = 0
  #closed = false

  constructor(host: ProjectionHost) {
    this.#host = host
  }

  /** store.rebuildProjection, on the store's pool: `query` makes the wait cancellable. */
  rebuild(query: Query, name: string, options: RebuildOptions): Promise<void> {
    return rebuildProjection(this.#host.sql, query, name, options)
  }

  /** store.project: checks its arguments, then starts the projection. */
  async project(name: string, handler: ProjectionHandler | URL | string, options: ProjectOptions | undefined): Promise<ProjectionHandle> {
    const projectionName = checkText(name, 'projection name')
    if (typeof handler !== 'function' && typeof handler !== 'string' && !(handler instanceof URL)) {
      throw new InvalidArgumentError(`handler must be a function (events, tx) or the URL or path of an actor module exporting one; got ${describe(handler)}`)
    }
    const resolved = resolveProjectOptions(options)
    if (this.#closed) throw new ConnectionError('the event store has been stopped')
    return this.#start(projectionName, handler, resolved)
  }

  /** Refuses new projections: the store is stopping. */
  close(): void {
    this.#closed = true
  }

  /** Starts projection `name`; refused while one of that name runs here. */
  async #start(name: string, handler: ProjectionHandler | URL | string, options: ResolvedProjectOptions): Promise<ProjectionHandle> {
    // Taken before any await, so that two calls at once cannot both start it.
    if (this.#names.has(name)) throw new SubscriptionAlreadyExistsError(`projection "${name}" already runs in this store`, { name })
    const needs = connectionsOf(handler)
    if (this.#taken + needs > this.#host.room) {
      throw new InvalidArgumentError(
        `projection "${name}" needs ${needs} connection(s) and the store's connection budget has ${this.#host.room - this.#taken} left for projections; raise maxConnections`,
        { argument: 'maxConnections' },
      )
    }
    this.#names.add(name)
    this.#taken += needs
    const module = needs > 1 ? 1 : 0
    this.#modules += module
    const release = () => {
      this.#names.delete(name)
      this.#taken -= needs
      this.#modules -= module
    }
    const { sql, listenOn, locks, target, codec, report } = this.#host
    let projection: RunningProjection
    try {
      if (typeof handler === 'function') {
        projection = new Projection(name, handler, options, { ...target, sql, listenOn, locks, codec, report })
      } else {
        if (Array.isArray(this.#host.upcasters)) {
          throw new InvalidArgumentError('an actor-module projection runs on a thread of its own, which functions cannot reach: give upcasters as the URL or path of a module to use both')
        }
        const moduleUrl = handler instanceof URL ? handler.href : new URL(handler, `file://${process.cwd()}/`).href
        projection = await startModuleProjection(this.#host.context, locks, name, moduleUrl, options, report)
      }
    } catch (error) {
      release()
      throw error
    }
    this.#running.add(projection)
    void projection.closed.then(() => {
      this.#running.delete(projection)
      release()
      // A module projection's lock is held by this thread's session for its thread, which may have died holding it.
      if (typeof handler !== 'function') {
        void locks.unlock(`${target.schema}:$all:${PROJECTION_PREFIX}${name}`, true).catch((error: unknown) => report('warning', 'projection', `releasing the lock of projection "${name}" failed`, error, { name }))
      }
    })
    return projection
  }

  /** Connections the running projections may open: `sessions` of them LISTEN sessions of module projections. */
  get connections(): { max: number; sessions: number } {
    return { max: this.#taken, sessions: this.#modules }
  }

  /** The projections running now. */
  get running(): RunningProjection[] {
    return [...this.#running]
  }
}
