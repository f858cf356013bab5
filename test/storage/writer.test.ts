import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { closeDatabase, openDatabase } from '../../lib/storage/database.js'
import type { PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'
import { Writer } from '../../lib/writer/writer.js'
import { freshStoreConfig } from '../helpers/database.js'

function prepared(dataJson = '{"n":1}'): PreparedEvent {
  return { eventId: randomUUID(), eventType: 'E', causationId: null, correlationId: null, dataJson, metadataJson: '{}', idGiven: false }
}
const append = (streamId: string, dataJson?: string): WriteRequest => ({ type: 'append', streamId, expected: 0, events: [prepared(dataJson)] })

async function startWriter(t: Test, maxBatchRows?: number) {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  const writer = new Writer(sql, config.schema, { maxBatchRows })
  t.teardown(async () => {
    await writer.stop()
    await closeDatabase(sql)
  })
  const positions = async () => (await sql`SELECT global_position FROM events ORDER BY 1`).map((r) => r.global_position as number)
  return { writer, positions, sql }
}

t.test('requests posted together share one transaction; requests arriving mid-flight share the next', async (t) => {
  const { writer, positions } = await startWriter(t)
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.post(append(`a-${i}`))))
  t.same(writer.stats, { batches: 1, requests: 20 })
  const first = writer.post(append('b-first'))
  await new Promise((resolve) => setImmediate(resolve)) // the first batch is now in flight
  const rest = Array.from({ length: 10 }, (_, i) => writer.post(append(`b-${i}`)))
  await Promise.all([first, ...rest])
  t.same(writer.stats, { batches: 3, requests: 31 })
  t.same(await positions(), Array.from({ length: 31 }, (_, i) => i + 1))
})

t.test('a batch is capped by rows, but a larger single request still goes whole', async (t) => {
  const { writer } = await startWriter(t, 2)
  const big: WriteRequest = { type: 'append', streamId: 'big', expected: 0, events: [prepared(), prepared(), prepared()] }
  await Promise.all([writer.post(append('x')), writer.post(append('y')), writer.post(big), writer.post(append('z'))])
  t.same(writer.stats, { batches: 3, requests: 4 })
})

t.test('when the server refuses a batch, each request is retried alone: only the bad one fails', async (t) => {
  const { writer, positions } = await startWriter(t)
  // Past the store's own checks, PostgreSQL refuses \u0000 in jsonb: the whole batch statement fails.
  const results = await Promise.allSettled([
    writer.post(append('good-1')),
    writer.post(append('bad', '{"x":"\\u0000"}')),
    writer.post(append('good-2')),
  ])
  t.same(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)), ['ok', 'invalid_argument', 'ok'])
  t.same(await positions(), [1, 2], 'the good ones are written, without a gap')
})

t.test('abort and timeout withdraw queued requests; a stopped writer refuses new ones', async (t) => {
  const { writer, sql } = await startWriter(t)
  // Another session holds the $all lock, so the first batch waits in flight and the rest stay queued.
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let locked = () => {}
  const lockTaken = new Promise<void>((resolve) => {
    locked = resolve
  })
  const holder = sql.begin(async (tx) => {
    await tx`SELECT 1 FROM streams WHERE stream_id = 0 FOR UPDATE`
    locked()
    await held
  })
  await lockTaken
  const inFlight = writer.post(append('first'))
  await new Promise((resolve) => setTimeout(resolve, 20))
  const controller = new AbortController()
  const aborted = writer.post(append('aborted'), { signal: controller.signal })
  const timedOut = writer.post(append('slow'), { timeout: 30 })
  const waiting = writer.post(append('waiting'))
  controller.abort()
  await t.rejects(aborted, { code: 'aborted' })
  await t.rejects(timedOut, { code: 'timeout' })
  release()
  await holder
  await inFlight
  await waiting
  t.same(writer.stats, { batches: 2, requests: 2 }, 'withdrawn requests never reached a batch')
  await t.rejects(writer.post(append('late'), { signal: AbortSignal.abort() }), { code: 'aborted' })
  await writer.stop()
  await t.rejects(writer.post(append('after')), { code: 'connection' })
})
