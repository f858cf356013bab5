// postgres.js 3.4.9 can throw from a timer when a connection closes under a queued write
// (porsager/postgres#1208), which crashes the host process. The package bundles a copy of the
// driver that carries the guard (patches/postgres+3.4.9.patch, applied before packing), so
// an application gets it with no step of its own; the check tells if another copy was loaded.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Report } from '../reports.js'

/** The line the patch adds; its absence means the driver in use is unguarded. */
const GUARD_MARKER = 'porsager/postgres#1208'

export const UNGUARDED_DRIVER =
  'the postgres.js this store loaded lacks the guard against porsager/postgres#1208 (a lost connection can crash this process); reinstall pg-eventstore, whose bundled copy of the driver carries it'

export function driverIsGuarded(): boolean {
  try {
    const connection = fileURLToPath(new URL('connection.js', import.meta.resolve('postgres')))
    return readFileSync(connection, 'utf8').includes(GUARD_MARKER)
  } catch {
    return false
  }
}

/** Reports the unguarded driver; on stderr as well when no listener or logger would see the report. */
export function warnUnguardedDriver(heard: boolean, report: Report): void {
  if (!heard) process.emitWarning(UNGUARDED_DRIVER, { code: 'PG_EVENTSTORE_DRIVER' })
  report('warning', 'driver', UNGUARDED_DRIVER)
}
