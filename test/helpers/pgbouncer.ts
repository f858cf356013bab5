// A PgBouncer of a test's own in transaction mode (Debian's pgbouncer, 1.18 here), in front of
// the run's PostgreSQL: its ini, auth file and socket in a temporary directory, run as an
// unprivileged user (PgBouncer refuses to run as root), on a free port. The test may kill it
// and start it again on the same port; teardown kills it and removes its files. Also used by
// benchmarks/pooler.ts, which ends it itself.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export const PGBOUNCER = '/usr/sbin/pgbouncer'

/** Whether Debian's pgbouncer is installed (.ci/run installs it). */
export const hasPgBouncer = (): boolean => existsSync(PGBOUNCER)

export interface PgBouncer {
  /** The server's URL with PgBouncer's host and port in its place. */
  url: string
  /** SIGKILL: every client connection drops at once, as in a crash. */
  kill(): Promise<void>
  /** Starts it again on the same port. */
  start(): Promise<void>
  /** Kills it and removes its files. */
  end(): Promise<void>
}

export interface PgBouncerOptions {
  /** Run on each new server connection (PgBouncer's connect_query), e.g. a decoy search_path. */
  connectQuery?: string
  /** Server connections per database and user (default_pool_size). */
  poolSize?: number
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * An unprivileged account to run PgBouncer as, when the tests run as root. Set on the child
 * itself (not through runuser), so that a SIGKILL reaches PgBouncer and not a wrapper.
 */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  for (const user of ['postgres', 'nobody']) {
    try {
      const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())
      return { uid: id('-u'), gid: id('-g') }
    } catch {
      // not on this machine
    }
  }
  throw new Error('no unprivileged user to run pgbouncer as')
}

/** A PgBouncer for the test, ended when it ends. */
export async function startPgBouncer(t: Test, serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const bouncer = await runPgBouncer(serverUrl, options)
  t.teardown(() => bouncer.end())
  return bouncer
}

export async function runPgBouncer(serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(serverUrl)
  const dir = mkdtempSync(join(tmpdir(), 'pg-eventstore-pgbouncer-'))
  chmodSync(dir, 0o777) // PgBouncer writes its pid file and socket here as another user
  const port = await freePort()
  const user = decodeURIComponent(server.username) || 'postgres'
  const database = decodeURIComponent(server.pathname.slice(1)) || 'postgres'
  const target = [
    `host=${server.hostname}`,
    `port=${server.port || 5432}`,
    `dbname=${database}`,
    `user=${user}`,
    ...(server.password ? [`password=${decodeURIComponent(server.password)}`] : []),
    ...(options.connectQuery ? [`connect_query='${options.connectQuery.replaceAll("'", "''")}'`] : []),
  ].join(' ')
  const ini = join(dir, 'pgbouncer.ini')
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`)
  writeFileSync(
    ini,
    [
      '[databases]',
      `${database} = ${target}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 20}`,
      'max_client_conn = 500',
      // Nothing listed in ignore_startup_parameters: the store must send none PgBouncer refuses.
      'server_login_retry = 1',
      '',
    ].join('\n'),
  )
  for (const file of ['users.txt', 'pgbouncer.ini']) chmodSync(join(dir, file), 0o644)
  let child: ChildProcess | null = null

  const start = async () => {
    const started = spawn(PGBOUNCER, [ini], { stdio: ['ignore', 'ignore', 'pipe'], ...runAs() })
    let stderr = ''
    started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child = started
    const deadline = Date.now() + 10_000
    while (!(await accepts(port))) {
      if (started.exitCode !== null || Date.now() > deadline) throw new Error(`pgbouncer did not start: ${stderr}`)
      await sleep(20)
    }
  }

  const kill = async () => {
    const running = child
    child = null
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL')
    await exited
  }

  const end = async () => {
    await kill()
    rmSync(dir, { recursive: true, force: true })
  }
  await start().catch(async (error: unknown) => {
    await end()
    throw error
  })
  const url = new URL(serverUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return { url: url.href, kill, start, end }
}
