// Session-level advisory locks, on a lock session (openLockSession): held until released or
// until the session ends, which is how a standby elsewhere takes over from a holder that died.
import type { Sql } from './database.js'

export async function releaseAdvisoryLock(session: Sql, name: string): Promise<void> {
  await session.unsafe(session.statements.subscription_unlock, [name])
}

/** The backend now serving the session: postgres.js quietly reconnects, so it may not be the one that took the locks. */
export async function sessionPid(session: Sql): Promise<number | null> {
  const [row] = await session<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
  return row?.pid ?? null
}
