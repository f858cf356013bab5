// postgres.js 3.4.9 can throw from a timer when a connection closes under a queued write
// (porsager/postgres#1208), which crashes the host process. This repository carries the
// guard as patches/postgres+3.4.9.patch, applied on install; an application that installs
// pg-eventstore as a package must apply it too (README "Guarantees"). The check tells.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The line the patch adds; its absence means the driver in use is unguarded. */
const GUARD_MARKER = 'porsager/postgres#1208'

export function driverIsGuarded(): boolean {
  try {
    const connection = fileURLToPath(new URL('connection.js', import.meta.resolve('postgres')))
    return readFileSync(connection, 'utf8').includes(GUARD_MARKER)
  } catch {
    return false
  }
}
