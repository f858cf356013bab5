// How many connections of each kind a store has open now, across its threads: one cell per
// kind in memory shared with every worker thread, counted as each socket connects and closes.
import { connect, type Socket } from 'node:net'

export const connectionKinds = ['store', 'writer', 'workers', 'projections', 'lockSession', 'listener'] as const
export type ConnectionKind = (typeof connectionKinds)[number]

/** The cells a store's threads count into (an Int32Array on a SharedArrayBuffer crosses to them shared). */
export const newConnectionCounts = (): Int32Array => new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * connectionKinds.length))

export function openConnections(counts: Int32Array): Record<ConnectionKind, number> {
  return Object.fromEntries(connectionKinds.map((kind, index) => [kind, Atomics.load(counts, index)])) as Record<ConnectionKind, number>
}

/** Where postgres.js would connect, as it parsed the url (hosts and ports in turn, or a unix socket). */
interface SocketTarget {
  host: string[]
  port: number[]
  path?: string | false
}

/**
 * postgres.js's `socket` option: the socket it would make, counted in `kind`'s cell while it
 * is connected. Returned still connecting, as postgres.js's own: the startup message waits
 * in the socket until it connects, and a failure reaches postgres.js as an error and close.
 */
export function countedSocket(counts: Int32Array, kind: ConnectionKind): (target: SocketTarget) => Socket {
  const cell = connectionKinds.indexOf(kind)
  let next = 0
  return ({ host, port, path }) => {
    const index = next++ % host.length
    const socket = path ? connect(path) : connect(port[index] ?? port[0] ?? 5432, host[index])
    Object.assign(socket, { host: host[index], port: port[index] ?? port[0] })
    socket.once('connect', () => {
      Atomics.add(counts, cell, 1)
      socket.once('close', () => Atomics.sub(counts, cell, 1))
    })
    return socket
  }
}
