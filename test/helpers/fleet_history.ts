// A fleet of processes appending to one store (test/fixtures/fleet_appender.ts), then its
// history checked as a whole against what each process was told: used by
// test/writer/fleet_history.test.ts and by `npm run soak`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { EventStore } from '../../lib/event_store.js'
import type { AppendRecord } from '../fixtures/fleet_appender.js'
import { spawnScript } from './processes.js'

export interface FleetReport {
  /** Events in $all. */
  events: number
  /** Positions missing from 1..last. */
  gaps: number
  acknowledged: number
  refused: number
  /** The codes the refusals carried. */
  refusalCodes: string[]
  /** Events of refused appends found stored. */
  refusedStored: number
  /** Stored events that belong to no acknowledged append. */
  unowned: number
  /** Acknowledged appends not stored whole, at their versions, contiguous in $all. */
  problems: string[]
  /** Appends placed in $all before one that was acknowledged before they were called. */
  overtaken: number
  /** Processes that did not exit with 0. */
  failedProcesses: number
}

/** Runs `names.length` appender processes together for `seconds`; returns what each call was told. */
export async function runFleet(t: Test, config: { url: string; schema: string }, names: string[], seconds: number): Promise<{ records: AppendRecord[]; failedProcesses: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-history-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const children = names.map((name) =>
    spawnScript(t, 'fixtures/fleet_appender.ts', { URL: config.url, SCHEMA: config.schema, NAME: name, SECONDS: String(seconds), RECORDS: join(dir, `${name}.jsonl`) }),
  )
  await Promise.all(children.map((child) => child.waitFor((line) => line === 'ready')))
  for (const child of children) child.process.stdin?.write('go\n')
  await Promise.all(children.map((child) => child.waitFor((line) => line.startsWith('{'), (seconds + 30) * 1000)))
  const codes = await Promise.all(children.map((child) => child.exited))
  const records = names.flatMap((name) =>
    readFileSync(join(dir, `${name}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AppendRecord),
  )
  return { records, failedProcesses: codes.filter((code) => code !== 0).length }
}

export async function checkFleetHistory(store: EventStore, records: AppendRecord[], failedProcesses = 0): Promise<FleetReport> {
  const stored = new Map<string, { position: number; streamId: string; version: number }>()
  let last = 0
  for await (const event of store.streamAllForward(0)) {
    stored.set(event.eventId, { position: event.eventNumber, streamId: event.streamId, version: event.streamVersion })
    last = event.eventNumber
  }
  const acknowledged = records.filter((record) => record.outcome === 'ok')
  const refused = records.filter((record) => record.outcome !== 'ok')
  const problems: string[] = []
  const spans: { first: number; invokedAt: bigint; settledAt: bigint }[] = []
  for (const record of acknowledged) {
    const events = record.eventIds.map((id) => stored.get(id))
    const first = events[0]
    if (!first || events.some((event) => event === undefined)) {
      problems.push(`${record.process} ${record.streamId}: acknowledged but not stored whole`)
      continue
    }
    const start = typeof record.expected === 'number' ? record.expected + 1 : first.version
    events.forEach((event, i) => {
      if (event?.streamId !== record.streamId) problems.push(`${record.streamId}: event ${i} stored in ${event?.streamId}`)
      if (event?.version !== start + i) problems.push(`${record.streamId} at ${String(record.expected)}: event ${i} at version ${event?.version}`)
      if (event?.position !== first.position + i) problems.push(`${record.streamId}: the append is not contiguous in $all`)
    })
    spans.push({ first: first.position, invokedAt: BigInt(record.invokedAt), settledAt: BigInt(record.settledAt) })
  }
  // Walking $all from its end: an append that settled before a lower-placed one was called
  // would be a write that overtook another in real time.
  spans.sort((a, b) => b.first - a.first)
  let earliestSettledAbove: bigint | null = null
  let overtaken = 0
  for (const span of spans) {
    if (earliestSettledAbove !== null && earliestSettledAbove < span.invokedAt) overtaken += 1
    if (earliestSettledAbove === null || span.settledAt < earliestSettledAbove) earliestSettledAbove = span.settledAt
  }
  const acknowledgedEvents = acknowledged.reduce((sum, record) => sum + record.eventIds.length, 0)
  return {
    events: stored.size,
    gaps: last - stored.size,
    acknowledged: acknowledged.length,
    refused: refused.length,
    refusalCodes: [...new Set(refused.map((record) => record.outcome))],
    refusedStored: refused.flatMap((record) => record.eventIds).filter((id) => stored.has(id)).length,
    unowned: stored.size - acknowledgedEvents,
    problems,
    overtaken,
    failedProcesses,
  }
}
