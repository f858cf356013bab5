// postgres.js 3.4.9 can throw from a timer when a connection closes under a queued write
// (porsager/postgres#1208), or leave a rejection unhandled when a cancel cannot reach the
// server; either crashes the host process. On a pipelined connection, a query behind one that
// failed mid-rows gets holes in its rows (porsager/postgres#1181), and cancelling queries
// waiting in the pipeline hands one query's replies to another; a query cancelled before it
// runs can keep its connection, or its transaction, waiting for good; end() can wait for
// ever or leave a connection open; a terminated backend's error fails the next query;
// unlisten() misses a listener listened again after a reconnect; a cancel that lands late
// cancels the next query or the one pipelined behind, and one sent while a statement is
// described is lost. The package bundles a copy of the driver that carries the guards
// (patches/postgres+3.4.9.patch, applied before packing), so an application gets them with
// no step of its own; the check tells if another copy was loaded.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Report } from '../reports.js'

/** A line each guard adds, by the driver's file; any one missing means the driver in use is unguarded. */
const GUARD_MARKERS: Record<string, string[]> = {
  'connection.js': [
    'porsager/postgres#1208',
    'porsager/postgres#1181',
    'stays the one the next replies belong',
    'runs nowhere: the connection goes',
    'What the closed connection was answering is over',
    'Nothing new goes out while a cancel is on its way',
    'Cancelled while it was described',
    'cancelled by the cancel meant for the one before it is run again',
  ],
  'index.js': [
    'a cancel that cannot reach the server must',
    'Cancelled before it reached the pool',
    'Cancelled before it was sent: nothing to run',
    'Ending: the queries still queued are refused',
    'Re-listening after a reconnect passes the same listener',
  ],
}

export const UNGUARDED_DRIVER =
  'the postgres.js this store loaded lacks the guards against porsager/postgres#1208 (a lost connection can crash this process), against pipelined queries getting wrong rows, and against cancels, ends and lost connections that hang or fail the wrong query; reinstall pg-eventstore, whose bundled copy of the driver carries them'

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
