// A TCP proxy in front of PostgreSQL that cuts a connection at a chosen moment, to put the
// writer in the states a real outage leaves it in, deterministically:
// - 'drop_request': the next chunk a client sends is swallowed and the connection cut, so
//   the server never sees the request (not committed);
// - 'drop_response': the next request goes through, and the connection is cut as the
//   server's answer arrives, so the client never hears it (committed, outcome unknown);
// - refuse(): new connections are closed at once (the server cannot be reached);
// - hold(): new connections wait, what their clients send kept, until released (a server
//   slow to accept: the client's connection stays "being opened").
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

export type Cut = 'drop_request' | 'drop_response'

export interface FaultProxy {
  /** The database URL, pointing at the proxy. */
  url: string
  /** Cuts every connection whose next request arrives after this call, once each, in the given way. */
  arm(cut: Cut): void
  /** Refuse new connections (true) or let them through again (false). */
  refuse(refusing: boolean): void
  /** Hold new connections before they reach the server (true); false lets the held ones through. */
  hold(holding: boolean): void
  /** Connections the proxy has accepted so far. */
  readonly accepted: number
  /** Connections cut so far. */
  readonly cuts: number
}

export async function faultProxy(t: Test, databaseUrl: string): Promise<FaultProxy> {
  const target = new URL(databaseUrl)
  let armed: Cut | null = null
  let refusing = false
  let cuts = 0
  let accepted = 0
  /** While holding: the connections waiting to be let through. */
  let held: (() => void)[] | null = null
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    accepted += 1
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    if (refusing) return client.destroy()
    if (held === null) return pass(client)
    const chunks: Buffer[] = []
    const keep = (chunk: Buffer) => chunks.push(chunk)
    client.on('data', keep)
    held.push(() => {
      client.off('data', keep)
      pass(client, chunks)
    })
  })
  /** Joins `client` to the server, sending first what it sent while held. */
  const pass = (client: Socket, sentBefore: Buffer[] = []) => {
    if (client.destroyed) return
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const chunk of sentBefore) upstream.write(chunk)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    let cutting: Cut | null = null
    const cut = () => {
      cuts += 1
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk) => {
      // Only connections past their start-up take part: the first chunk is the start-up message.
      if (cutting === null && armed !== null && started.has(client)) {
        cutting = armed
        armed = null
        if (cutting === 'drop_request') return cut()
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (cutting === 'drop_response') return cut()
      client.write(chunk)
      // Ready for queries once the server sent ReadyForQuery ('Z') after authentication.
      if (!started.has(client) && chunk.includes(0x5a)) started.add(client)
    })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  }
  const started = new WeakSet<Socket>()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const proxied = new URL(databaseUrl)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(port)
  return {
    url: proxied.href,
    arm: (kind) => {
      armed = kind
    },
    refuse: (value) => {
      refusing = value
    },
    hold: (holding) => {
      const release = held ?? []
      held = holding ? (held ?? []) : null
      if (!holding) for (const letThrough of release) letThrough()
    },
    get accepted() {
      return accepted
    },
    get cuts() {
      return cuts
    },
  }
}
