// Work spread over a fleet: processes that subscribe the same subscriptions and run the same
// projections hold about as many each, at start, after one joins and after one is killed;
// a killed process's share is taken over within 2 s; nothing is skipped and each
// subscription's order holds across every hand-over.
import postgres from 'postgres'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { freshStoreConfig } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { eventually } from '../helpers/eventually.js'
import { type Child, spawnScript } from '../helpers/processes.js'
import { within } from '../helpers/settles.js'

const SUBSCRIPTIONS = 8
const PROJECTIONS = 4
const ITEMS = SUBSCRIPTIONS + PROJECTIONS

interface Delivery {
  name: string
  at: bigint
  events: number[]
}

t.test('3 processes × 12 subscriptions and projections: spread at start, after a fourth joins, after one is SIGKILLed', async (t) => {
  const config = await freshStoreConfig(t)
  const observer = await EventStore.start(config)
  t.teardown(() => observer.stop())
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end({ timeout: 1 }))
  await admin.unsafe(`CREATE TABLE "${config.schema}".fleet_projected (id bigserial PRIMARY KEY, projection text NOT NULL, event_number bigint NOT NULL)`)

  /** Items held per store, from the status any process can read. */
  const spread = async (): Promise<{ held: number; perStore: number[] }> => {
    const { subscriptions } = await observer.status()
    const counts = new Map<string, number>()
    for (const s of subscriptions) if (s.holder?.store) counts.set(s.holder.store, (counts.get(s.holder.store) ?? 0) + 1)
    const perStore = [...counts.values()].sort((a, b) => a - b)
    return { held: perStore.reduce((sum, n) => sum + n, 0), perStore }
  }
  const spreadIs = (expected: number[]) => (now: { held: number; perStore: number[] }) => JSON.stringify(now.perStore) === JSON.stringify(expected)

  // Appends go on all along, so every hand-over happens while events flow.
  let appending = true
  let appended = 0
  const writer = (async () => {
    while (appending) {
      await observer.appendToStream('flow', appended, makeEvents(1))
      appended += 1
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()

  const start = (): Child => spawnScript(t, 'fixtures/fleet_worker.ts', { URL: config.url, SCHEMA: config.schema, SUBSCRIPTIONS: String(SUBSCRIPTIONS), PROJECTIONS: String(PROJECTIONS) })
  const children = [start(), start(), start()]
  await Promise.all(children.map((child) => child.waitFor((line) => line === 'ready')))
  const atStart = await eventually(spread, spreadIs([4, 4, 4]), { within: 15_000, every: 100 })
  t.same(atStart.perStore, [4, 4, 4], '3 processes hold 4 each')

  children.push(start())
  await children[3]?.waitFor((line) => line === 'ready')
  const afterJoin = await eventually(spread, spreadIs([3, 3, 3, 3]), { within: 15_000, every: 100 })
  t.same(afterJoin.perStore, [3, 3, 3, 3], 'after a fourth joins: 3 each')

  const victim = children[0] as Child
  const killedAt = Date.now()
  victim.process.kill('SIGKILL')
  await victim.exited
  const allHeld = await eventually(spread, (now) => now.held === ITEMS && now.perStore.length === 3, { within: 10_000, every: 50 })
  const tookOver = Date.now() - killedAt
  t.equal(allHeld.held, ITEMS, 'every item is held again by the 3 left')
  t.ok(tookOver <= 2000, `the killed process's share was taken over ${tookOver} ms after it died`)
  const afterKill = await eventually(spread, spreadIs([4, 4, 4]), { within: 15_000, every: 100 })
  t.same(afterKill.perStore, [4, 4, 4], 'after one is killed: 4 each')

  appending = false
  await writer
  const last = appended
  const survivors = children.slice(1)
  const deliveries = (): Delivery[] =>
    children.flatMap((child) =>
      child.lines.filter((line) => line.startsWith('{')).map((line) => {
        const parsed = JSON.parse(line) as { name: string; at: string; events: number[] }
        return { name: parsed.name, at: BigInt(parsed.at), events: parsed.events }
      }),
    )
  const seenBy = (name: string) => new Set(deliveries().filter((d) => d.name === name).flatMap((d) => d.events))
  const everyoneDone = () => Array.from({ length: SUBSCRIPTIONS }, (_, i) => seenBy(`work-${i}`).size).every((n) => n === last)
  await eventually(async () => everyoneDone(), (done) => done, { within: 30_000, every: 100 })
  for (let i = 0; i < SUBSCRIPTIONS; i += 1) {
    const name = `work-${i}`
    const inOrder = deliveries()
      .filter((d) => d.name === name)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    let highest = 0
    const skipped: number[] = []
    for (const delivery of inOrder) {
      for (const n of delivery.events) {
        if (n > highest + 1) skipped.push(n)
        highest = Math.max(highest, n)
      }
    }
    t.same(skipped, [], `${name}: no event delivered before every earlier one was`)
    t.equal(seenBy(name).size, last, `${name}: all ${last} events delivered`)
  }
  const projected = await eventually(
    () => admin.unsafe<{ projection: string; numbers: number[] }[]>(`SELECT projection, array_agg(event_number ORDER BY id)::int[] AS numbers FROM "${config.schema}".fleet_projected GROUP BY projection ORDER BY projection`),
    (rows) => rows.length === PROJECTIONS && rows.every((row) => row.numbers.length >= last),
    { within: 30_000, every: 100 },
  )
  for (const row of projected) {
    t.same(row.numbers, Array.from({ length: row.numbers.length }, (_, i) => i + 1), `${row.projection}: every event once, in order, across its hand-overs`)
  }
  for (const child of survivors) child.process.stdin?.write('stop\n')
  const codes = await Promise.all(survivors.map((child) => within(child.exited, 30_000)))
  t.same(codes, [0, 0, 0], `the others stop cleanly ${JSON.stringify(survivors.map((child) => child.lines.filter((line) => !line.startsWith('{')).slice(-5)))}`)
})

t.test('processes wanting different subscriptions: every one is held, each by a process that wants it', async (t) => {
  const config = await freshStoreConfig(t)
  const observer = await EventStore.start(config)
  t.teardown(() => observer.stop())
  // Three wanted by one process, one by the other: the share (4 items, 2 stores) is 2, so the
  // first takes its third only by pressing.
  const first = spawnScript(t, 'fixtures/fleet_worker.ts', { URL: config.url, SCHEMA: config.schema, PREFIX: 'a', SUBSCRIPTIONS: '3', PROJECTIONS: '0' })
  const second = spawnScript(t, 'fixtures/fleet_worker.ts', { URL: config.url, SCHEMA: config.schema, PREFIX: 'b', SUBSCRIPTIONS: '1', PROJECTIONS: '0' })
  await Promise.all([first, second].map((child) => child.waitFor((line) => line === 'ready')))
  const holders = async () => {
    const { subscriptions } = await observer.status()
    return Object.fromEntries(subscriptions.map((s) => [s.name, s.holder?.pid ?? null]))
  }
  const held = await eventually(holders, (now) => Object.keys(now).length === 4 && Object.values(now).every((pid) => pid !== null), { within: 15_000, every: 100 })
  t.same(held, { 'a-0': first.process.pid, 'a-1': first.process.pid, 'a-2': first.process.pid, 'b-0': second.process.pid }, 'all four held, each by the process subscribing it')
})

t.test('concurrencyLimit groups spread like single subscribers: 3 processes × 6 groups of 2', async (t) => {
  const config = await freshStoreConfig(t)
  const observer = await EventStore.start(config)
  t.teardown(() => observer.stop())
  const start = () => spawnScript(t, 'fixtures/fleet_worker.ts', { URL: config.url, SCHEMA: config.schema, PREFIX: 'group', SUBSCRIPTIONS: '6', PROJECTIONS: '0', GROUP: '2' })
  const children = [start(), start(), start()]
  await Promise.all(children.map((child) => child.waitFor((line) => line === 'ready')))
  const groups = async () => {
    const { subscriptions } = await observer.status()
    const perProcess = new Map<number, number>()
    for (const s of subscriptions) if (s.holder?.pid) perProcess.set(s.holder.pid, (perProcess.get(s.holder.pid) ?? 0) + 1)
    return { perProcess: [...perProcess.values()].sort((a, b) => a - b) }
  }
  const spread = await eventually(groups, (now) => JSON.stringify(now.perProcess) === '[2,2,2]', { within: 15_000, every: 100 })
  t.same(spread.perProcess, [2, 2, 2], 'each process holds 2 of the 6 groups')

  await observer.appendToStream('grouped', 0, makeEvents(12))
  const delivered = () =>
    children.flatMap((child, process) =>
      child.lines.filter((line) => line.startsWith('{')).map((line) => ({ process, ...(JSON.parse(line) as { name: string; member: number; events: number[] }) })),
    )
  const names = [0, 1, 2, 3, 4, 5].map((i) => `group-${i}`)
  const all = await eventually(
    async () => delivered(),
    (now) => names.every((name) => new Set(now.filter((d) => d.name === name).flatMap((d) => d.events)).size === 12),
    { within: 15_000, every: 100 },
  )
  t.ok(all.length > 0, 'every group got all 12 events')
  t.same(
    names.map((name) => new Set(all.filter((d) => d.name === name).map((d) => d.process)).size),
    [1, 1, 1, 1, 1, 1],
    'each group is delivered to in one process, the one holding it',
  )
  const members = new Set(all.map((d) => `${d.name}/${d.member}`))
  t.ok(names.some((name) => members.has(`${name}/0`) && members.has(`${name}/1`)), 'within a group, both subscribers take a share')

  children[0]?.process.kill('SIGKILL')
  const after = await eventually(groups, (now) => JSON.stringify(now.perProcess) === '[3,3]', { within: 15_000, every: 100 })
  t.same(after.perProcess, [3, 3], "a killed process's groups are taken over by the other two, 3 each")
})
