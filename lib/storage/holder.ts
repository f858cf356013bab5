// Who holds a subscription: the session holding its advisory lock names the Node process in
// its application_name, so any process reading pg_stat_activity can tell host and pid.
import { hostname } from 'node:os'

const PREFIX = 'pg-eventstore locks '

export interface Holder {
  host: string
  /** The holding Node process; null when its session does not say (another tool took the lock). */
  pid: number | null
  /** The store holding it, told apart from other stores of the same process; null when unknown. */
  store: string | null
}

/** The role the lock sessions of this process report (openDatabase adds the schema). */
export function lockSessionRole(): string {
  return `${PREFIX}${process.pid}@${hostname()}`
}

/**
 * Reads a lock session's application_name back. PostgreSQL keeps 63 bytes of it, so a long
 * host name comes back cut; `clientAddress` stands in when the name is not ours.
 */
export function parseHolder(applicationName: string | null, clientAddress: string | null, storeTag: number | null = null): Holder {
  const store = storeTag === null ? null : storeName(storeTag)
  const match = applicationName?.startsWith(PREFIX) ? /^(\d+)@([^:]*)/.exec(applicationName.slice(PREFIX.length)) : null
  if (match) return { host: match[2] as string, pid: Number(match[1]), store }
  return { host: clientAddress ?? 'localhost', pid: null, store }
}

/** How a store's tag is shown: eight hex digits. */
export const storeName = (tag: number): string => tag.toString(16).padStart(8, '0')

/** host:pid, and the store when the holder names it: two stores of one process tell apart. */
export function holderName(holder: Holder): string {
  return `${holder.host}:${holder.pid ?? '?'}${holder.store ? `/${holder.store}` : ''}`
}
