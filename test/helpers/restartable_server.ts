// An embedded PostgreSQL server of a test's own, on a fixed port, that the test may stop
// (fast or immediate, as `pg_ctl stop -m`) and start again: for fault tests that must not
// disturb the suite's shared server.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { isAlive } from '../../lib/embedded/dir_lock.js'
import { acquireEmbeddedServer, type EmbeddedServer, stopEmbeddedServer } from '../../lib/embedded/server.js'
import { EventStore } from '../../lib/event_store.js'

export interface RestartableServer {
  url: string
  /** Stops the server: 'fast' disconnects clients cleanly, 'immediate' kills it as a crash would. */
  stop(mode: 'fast' | 'immediate'): Promise<void>
  start(): Promise<void>
}

export async function restartableServer(t: Test): Promise<RestartableServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pg-eventstore-faults-'))
  const holder = 'fault-test'
  let server: EmbeddedServer = await acquireEmbeddedServer({ dataDir, holder, createSystemUser: true })
  const port = Number(new URL(server.url).port)
  t.teardown(async () => {
    await stopEmbeddedServer(dataDir)
    rmSync(dataDir, { recursive: true, force: true })
  })
  const pid = () => Number(readFileSync(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0])
  return {
    url: server.url,
    async stop(mode) {
      const postmaster = pid()
      process.kill(postmaster, mode === 'fast' ? 'SIGINT' : 'SIGQUIT')
      // The postmaster is no child of ours: nothing tells when it is gone.
      while (isAlive(postmaster)) await sleep(10)
    },
    async start() {
      server = await acquireEmbeddedServer({ dataDir, holder, port, createSystemUser: true })
    },
  }
}

/** Initialises a schema on the server; the store config to start it with. */
export async function storeOn(server: RestartableServer, schema: string) {
  const config = { url: server.url, schema, workers: 1, poolSize: 4, outcomeTimeout: 10_000 }
  await EventStore.init(config)
  return config
}
