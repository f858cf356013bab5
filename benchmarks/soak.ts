// `npm run soak`: the fault mix of the fault tests, for a set time (SOAK_SECONDS, default
// 600), against an embedded PostgreSQL server of its own. In this process 20 writers append
// and two subscriptions consume while the store's backends are terminated every second and
// the server is restarted (immediate and fast, in turn) every 30 s (terminations pause until
// the recovery after a restart is measured); beside it, child
// processes write and are killed with SIGKILL at random moments. Then every appended event is
// checked against the database. Last, four processes append together to a store of their own,
// contending for shared streams, and that fleet's history is checked as a whole
// (test/helpers/fleet_history.ts). The figures are printed.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { EventStore } from '../lib/event_store.js'
import { FaultLoad, watchForCrashes } from '../test/helpers/fault_load.js'
import { checkFleetHistory, runFleet } from '../test/helpers/fleet_history.js'
import { restartableServer, storeOn } from '../test/helpers/restartable_server.js'

const seconds = Number(process.env.SOAK_SECONDS ?? 600)
const RESTART_EVERY_MS = 30_000
const TERMINATE_EVERY_MS = 1000

/** The helpers expect a tap Test for clean-up; the soak runs its own at the end. */
const cleanups: (() => unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => cleanups.push(fn) } as never

const crashes = watchForCrashes()
const server = await restartableServer(fakeTest)
const config = await storeOn(server, 'soak')
const store = await EventStore.start(config)
const load = new FaultLoad(store, { writers: 20, subscriptions: 2 })
await load.start()
const admin = postgres(config.url, { max: 1, onnotice: () => {}, connect_timeout: 2 })

const figures = { kills: 0, restarts: 0, terminations: 0, recoveries: [] as number[], childAcked: new Set<string>() }
/** Terminations pause from a restart until its recovery is measured: the figure is the restart's alone. */
let restarting = false
const started = Date.now()
const end = started + seconds * 1000
const running = () => Date.now() < end

async function terminations(): Promise<void> {
  while (running()) {
    await sleep(TERMINATE_EVERY_MS)
    if (restarting) continue
    const rows = await admin`
      SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE application_name LIKE 'pg-eventstore%:soak' AND pid <> pg_backend_pid()`.catch(() => [])
    figures.terminations += rows.filter((r) => r.killed).length
  }
}

async function restarts(): Promise<void> {
  let mode: 'immediate' | 'fast' = 'immediate'
  while (running()) {
    await sleep(RESTART_EVERY_MS)
    if (!running()) break
    restarting = true
    await server.stop(mode)
    await sleep(500)
    await server.start()
    // Counted from when the server accepts connections again: its own crash recovery is not the store's.
    const back = Date.now()
    figures.restarts += 1
    mode = mode === 'immediate' ? 'fast' : 'immediate'
    await sleep(3000)
    const recovery = load.firstSuccessAfter(back)
    figures.recoveries.push(recovery ?? Number.POSITIVE_INFINITY)
    restarting = false
  }
}

async function kills(): Promise<void> {
  const script = fileURLToPath(new URL('../test/fixtures/killable_writer.ts', import.meta.url))
  let round = 0
  while (running()) {
    round += 1
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, URL: config.url, SCHEMA: config.schema, ROUND: `k${round}` },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise((resolve) => child.on('exit', resolve))
    const ready = Date.now()
    while (!output.includes('ready') && Date.now() - ready < 30_000 && child.exitCode === null) await sleep(20)
    await sleep(200 + Math.random() * 1300)
    child.kill('SIGKILL')
    await exited
    figures.kills += 1
    for (const line of output.split('\n')) if (line.startsWith('ack ')) figures.childAcked.add(line.slice(4))
  }
}

function progress(): NodeJS.Timeout {
  return setInterval(() => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000))
    const line = `soak: ${left} s left · ${figures.kills} kills · ${figures.restarts} restarts · ${figures.terminations} terminations · ${load.resolvedCount} appends resolved`
    if (process.stdout.isTTY) process.stdout.write(`\r${line}   `)
    else console.log(line)
  }, process.stdout.isTTY ? 1000 : 30_000)
}

const ticker = progress()
await Promise.all([terminations(), restarts(), kills()])
clearInterval(ticker)
if (process.stdout.isTTY) process.stdout.write('\n')
await sleep(3000)
await load.stop()
const report = await load.check(config.url, config.schema, 60_000)

const sql = postgres(config.url, { max: 1, onnotice: () => {}, connection: { search_path: config.schema } })
const childAppends = await sql<{ append_id: string; events: number; size: number }[]>`
  SELECT data->>'appendId' AS append_id, count(*)::int AS events, max((data->>'size')::int) AS size
  FROM events WHERE event_type = 'Killable' GROUP BY 1`
await sql.end({ timeout: 1 })
const childStored = new Set(childAppends.map((a) => a.append_id))
const childLost = [...figures.childAcked].filter((id) => !childStored.has(id)).length
const childPartial = childAppends.filter((a) => a.events !== a.size).length

const stopStarted = Date.now()
await store.stop()
const stopMs = Date.now() - stopStarted

const fleetConfig = await storeOn(server, 'soak_fleet')
const fleet = await runFleet(fakeTest, fleetConfig, ['f1', 'f2', 'f3', 'f4'], Math.min(30, Math.max(2, Math.round(seconds / 10))))
const fleetStore = await EventStore.start(fleetConfig)
const fleetReport = await checkFleetHistory(fleetStore, fleet.records, fleet.failedProcesses)
await fleetStore.stop()
await admin.end({ timeout: 1 })
for (const cleanup of cleanups.reverse()) await cleanup()
crashes.stop()

const sorted = [...figures.recoveries].sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)] ?? null
const figuresOut = {
  seconds,
  kills: figures.kills,
  restarts: figures.restarts,
  terminations: figures.terminations,
  appendsChecked: report.appends + figures.childAcked.size,
  inProcess: { appends: report.appends, resolved: report.resolved, refused: report.refused, hung: report.hung },
  lost: report.lost + childLost,
  partial: childPartial,
  misreported: report.misreported,
  gapsInAll: report.gaps,
  uncaught: crashes.count(),
  recoveryMs: { p50: median, max: sorted.at(-1) ?? null },
  subscriptions: report.deliveredPerSubscription.map((delivered, i) => ({ delivered, missing: report.missingPerSubscription[i] })),
  storeReports: { warnings: report.warnings, errors: report.errors },
  stopMs,
  fleet: { ...fleetReport, problems: fleetReport.problems.length },
}
console.log(JSON.stringify(figuresOut, null, 2))
const failed =
  figuresOut.lost > 0 || figuresOut.partial > 0 || figuresOut.misreported > 0 || figuresOut.gapsInAll > 0 || figuresOut.uncaught > 0 || report.hung > 0 ||
  report.missingPerSubscription.some((n) => n > 0) || (sorted.at(-1) ?? 0) > 2000 ||
  fleetReport.gaps > 0 || fleetReport.problems.length > 0 || fleetReport.refusedStored > 0 || fleetReport.unowned > 0 || fleetReport.overtaken > 0 || fleetReport.failedProcesses > 0
console.log(failed ? 'soak: FAILED' : 'soak: passed')
process.exit(failed ? 1 : 0)
