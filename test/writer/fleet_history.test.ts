// A fleet of four processes appending to one store, then its history checked as a whole:
// every acknowledged append stored whole, at the versions it expected, contiguous in $all;
// every refused one stored not at all; $all gap-free and consistent with real time (an append
// acknowledged before another was called sits before it in $all).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { EventStore } from '../../lib/event_store.js'
import type { AppendRecord } from '../fixtures/fleet_appender.js'
import { freshStoreConfig } from '../helpers/database.js'
import { spawnScript } from '../helpers/processes.js'

const PROCESSES = ['p1', 'p2', 'p3', 'p4']

t.test('four processes append together: the history is whole, gap-free and in real-time order', async (t) => {
  const config = await freshStoreConfig(t)
  const dir = mkdtempSync(join(tmpdir(), 'fleet-history-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const children = PROCESSES.map((name) =>
    spawnScript(t, 'fixtures/fleet_appender.ts', { URL: config.url, SCHEMA: config.schema, NAME: name, SECONDS: '2', RECORDS: join(dir, `${name}.jsonl`) }),
  )
  await Promise.all(children.map((child) => child.waitFor((line) => line === 'ready')))
  for (const child of children) child.process.stdin?.write('go\n')
  await Promise.all(children.map((child) => child.waitFor((line) => line.startsWith('{'))))
  t.same(await Promise.all(children.map((child) => child.exited)), [0, 0, 0, 0], 'every process stopped cleanly')
  const records = PROCESSES.flatMap((name) =>
    readFileSync(join(dir, `${name}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AppendRecord),
  )

  const store = await EventStore.start({ ...config, workers: 1 })
  t.teardown(() => store.stop())
  const stored = new Map<string, { position: number; streamId: string; version: number }>()
  const positions: number[] = []
  for await (const event of store.streamAllForward(0)) {
    stored.set(event.eventId, { position: event.eventNumber, streamId: event.streamId, version: event.streamVersion })
    positions.push(event.eventNumber)
  }
  t.same(positions, Array.from({ length: positions.length }, (_, i) => i + 1), `$all is gap-free (${positions.length} events)`)

  const acknowledged = records.filter((record) => record.outcome === 'ok')
  const refused = records.filter((record) => record.outcome !== 'ok')
  t.ok(acknowledged.length > 100, `appends were acknowledged (${acknowledged.length})`)
  t.ok(refused.length > 0, `appends to the shared streams contended (${refused.length} refused)`)
  t.same([...new Set(refused.map((record) => record.outcome))], ['wrong_expected_version'], 'each refusal was a wrong expected version')
  t.same(refused.flatMap((record) => record.eventIds).filter((id) => stored.has(id)), [], 'nothing of a refused append was stored')

  const problems: string[] = []
  const spans: { first: number; last: number; invokedAt: bigint; settledAt: bigint }[] = []
  for (const record of acknowledged) {
    const events = record.eventIds.map((id) => stored.get(id))
    if (events.some((event) => event === undefined)) {
      problems.push(`${record.process} ${record.streamId}: acknowledged but not stored whole`)
      continue
    }
    const found = events as { position: number; streamId: string; version: number }[]
    const first = found[0] as (typeof found)[number]
    const start = typeof record.expected === 'number' ? record.expected + 1 : first.version
    found.forEach((event, i) => {
      if (event.streamId !== record.streamId) problems.push(`${record.streamId}: event ${i} stored in ${event.streamId}`)
      if (event.version !== start + i) problems.push(`${record.streamId} at ${String(record.expected)}: event ${i} at version ${event.version}`)
      if (event.position !== first.position + i) problems.push(`${record.streamId}: the append is not contiguous in $all`)
    })
    spans.push({ first: first.position, last: first.position + found.length - 1, invokedAt: BigInt(record.invokedAt), settledAt: BigInt(record.settledAt) })
  }
  t.same(problems, [], 'every acknowledged append is stored whole, at the versions it expected, contiguous in $all')
  t.equal(acknowledged.reduce((sum, record) => sum + record.eventIds.length, 0), stored.size, 'every stored event belongs to an acknowledged append')

  // Walking $all from its end: an append that settled before a lower-placed one was called
  // would be a write that overtook another in real time.
  spans.sort((a, b) => b.first - a.first)
  let earliestSettledAbove = BigInt(Number.MAX_SAFE_INTEGER) ** 2n
  let overtaken = 0
  for (const span of spans) {
    if (earliestSettledAbove < span.invokedAt) overtaken += 1
    if (span.settledAt < earliestSettledAbove) earliestSettledAbove = span.settledAt
  }
  t.equal(overtaken, 0, '$all order agrees with real time across the processes')
})
