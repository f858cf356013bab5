// postgres.js 3.4.9 can throw from a timer when a connection closes under a queued write
// (porsager/postgres#1208), or leave a rejection unhandled when a cancel cannot reach the
// server; either crashes the host process. On a pipelined connection, a query behind one that
// failed mid-rows gets holes in its rows (porsager/postgres#1181), and cancelling queries
// waiting in the pipeline hands one query's replies to another; a query cancelled while its
// connection opens keeps that connection out of the pool for good. The package bundles a copy
// of the driver that carries the guards (patches/postgres+3.4.9.patch, applied before
// packing), so an application gets them with no step of its own; the check tells if another
// copy was loaded.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Report } from '../reports.js'

/** A line each guard adds, by the driver's file; any one missing means the driver in use is unguarded. */
const GUARD_MARKERS: Record<string, string[]> = {
  'connection.js': ['porsager/postgres#1208', 'porsager/postgres#1181', 'stays the one the next replies belong', 'runs nowhere: the connection goes'],
  'index.js': ['a cancel that cannot reach the server must'],
}

export const UNGUARDED_DRIVER =
  'the postgres.js this store loaded lacks the guards against porsager/postgres#1208 (a lost connection can crash this process), against pipelined queries getting wrong rows and against cancels that lose a connection; reinstall pg-eventstore, whose bundled copy of the driver carries them'

export function driverIsGuarded(): boolean {
  try {
    return Object.entries(GUARD_MARKERS).every(([file, markers]) => {
      const text = readFileSync(fileURLToPath(new URL(file, import.meta.resolve('postgres'))), 'utf8')
      return markers.every((marker) => text.includes(marker))
    })
  } catch {
    return false
  }
}

/** Reports the unguarded driver; on stderr as well when no listener or logger would see the report. */
export function warnUnguardedDriver(heard: boolean, report: Report): void {
  if (!heard) process.emitWarning(UNGUARDED_DRIVER, { code: 'PG_EVENTSTORE_DRIVER' })
  report('warning', 'driver', UNGUARDED_DRIVER)
}
