// The writer never guesses an outcome. A proxy cuts the writer's connection at the moment
// that matters: after the server committed but before the answer arrived (the writer finds
// the batch stored and resolves), before the server saw the batch (it sends it again), and
// with the server out of reach afterwards (the caller hears details.outcome 'unknown').
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { closeDatabase, openDatabase } from '../../lib/storage/database.js'
import type { PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'
import { Writer } from '../../lib/writer/writer.js'
import { freshStoreConfig } from '../helpers/database.js'
import { faultProxy } from '../helpers/fault_proxy.js'

const prepared = (): PreparedEvent => ({ eventId: randomUUID(), eventType: 'E', causationId: null, correlationId: null, dataJson: '{}', metadataJson: '{}', idGiven: false })
const append = (streamId: string, expected: WriteRequest['expected']): WriteRequest => ({ type: 'append', streamId, expected, events: [prepared(), prepared()] })

async function setUp(t: Test, { checksThroughProxy = false } = {}) {
  const config = await freshStoreConfig(t)
  const writerProxy = await faultProxy(t, config.url)
  const checkProxy = await faultProxy(t, config.url)
  const direct = openDatabase({ url: config.url, schema: config.schema, max: 1 })
  const checks = checksThroughProxy ? openDatabase({ url: checkProxy.url, schema: config.schema, max: 1, connection: { connectTimeout: 500, maxReconnectDelay: 100 } }) : direct
  const reports: string[] = []
  const writer = new Writer(checks, config.schema, {
    openConnection: () => openDatabase({ url: writerProxy.url, schema: config.schema, max: 1 }),
    outcomeTimeout: 1500,
    report: (level, _source, message) => reports.push(`${level}: ${message}`),
  })
  t.teardown(async () => {
    await writer.stop()
    if (checks !== direct) await closeDatabase(checks)
    await closeDatabase(direct)
  })
  const count = async (streamId: string) => Number((await direct`SELECT count(*) AS n FROM ${direct(direct.schema)}.events JOIN ${direct(direct.schema)}.streams USING (stream_id) WHERE stream_uuid = ${streamId}`)[0]?.n)
  return { writer, writerProxy, checkProxy, reports, count }
}

// A stream taken at any version, then expected at an exact one, in one batch: only the locking write can check that.
const paths = [
  ['one-statement', () => [append('s', 2)], 4],
  ['locking', () => [append('s', 'any_version'), append('s', 4)], 6],
] as const
for (const [path, requests, total] of paths) {
  t.test(`${path} write: committed but the answer lost → the writer finds it stored and resolves`, async (t) => {
    const { writer, writerProxy, reports, count } = await setUp(t)
    await writer.post(append('s', 0))
    writerProxy.arm('drop_response')
    // The locking write's first request is its BEGIN: cut there, nothing was written, and it goes again.
    await Promise.all(requests().map((request) => writer.post(request)))
    t.equal(writerProxy.cuts, 1, 'the connection was cut once')
    t.equal(await count('s'), total, 'written exactly once')
    t.ok(reports.some((r) => /had committed|sending it again/.test(r)), `the writer reported it (${reports.join('; ')})`)
  })

  t.test(`${path} write: cut before the server saw it → sent again on a new connection, written once`, async (t) => {
    const { writer, writerProxy, reports, count } = await setUp(t)
    await writer.post(append('s', 0))
    writerProxy.arm('drop_request')
    await Promise.all(requests().map((request) => writer.post(request)))
    t.equal(writerProxy.cuts, 1)
    t.equal(await count('s'), total, 'written exactly once')
    t.ok(reports.some((r) => /sending it again/.test(r)), `the writer reported the retry (${reports.join('; ')})`)
  })
}

t.test('committed but the answer lost, and PostgreSQL out of reach afterwards → connection error with outcome unknown', async (t) => {
  const { writer, writerProxy, checkProxy, reports, count } = await setUp(t, { checksThroughProxy: true })
  await writer.post(append('s', 0))
  checkProxy.refuse(true)
  writerProxy.arm('drop_response')
  const started = Date.now()
  const error = await writer.post(append('s', 2)).catch((e: unknown) => e)
  t.match(error, { code: 'connection', details: { outcome: 'unknown' } })
  t.ok(Date.now() - started < 5000, 'settled within the outcome bound')
  t.equal(await count('s'), 4, 'it had in fact committed: the caller was told it cannot be known, not that it failed')
  t.ok(reports.some((r) => r.startsWith('error:')), 'reported as an error')
  checkProxy.refuse(false)
  await writer.post(append('s', 4))
  t.equal(await count('s'), 6, 'the writer goes on once the server is back')
})
