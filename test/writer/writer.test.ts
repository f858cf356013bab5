import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { closeDatabase, openDatabase } from '../../lib/storage/database.js'
import { InvalidArgumentError } from '../../lib/errors.js'
import type { PendingAppend, PreparedEvent, WriteRequest } from '../../lib/writer/messages.js'
import { PIPELINE_MIN_ROWS } from '../../lib/writer/batching.js'
import { Writer } from '../../lib/writer/writer.js'
import { freshStoreConfig } from '../helpers/database.js'

function prepared(dataJson = '{"n":1}'): PreparedEvent {
  return { eventId: randomUUID(), eventType: 'E', causationId: null, correlationId: null, dataJson, metadataJson: '{}', idGiven: false }
}
const append = (streamId: string, dataJson?: string): WriteRequest => ({ type: 'append', streamId, expected: 0, events: [prepared(dataJson)] })
const appendAt = (streamId: string, expected: WriteRequest['expected']): WriteRequest => ({ type: 'append', streamId, expected, events: [prepared()] })
/** Resolves once the writer has taken what was posted: it pumps on a microtask of the posting turn. */
const writerTurn = () => new Promise((resolve) => setImmediate(resolve))
const codeOf = (result: PromiseSettledResult<void>) => (result.status === 'fulfilled' ? 'ok' : (result.reason as { code: string }).code)

/** A writer on a fresh schema; unless told otherwise it pipelines batches of any size, which most tests here are about. */
async function startWriter(t: Test, maxBatchRows?: number, pipelineMinRows = 1) {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  const openConnection = () => openDatabase({ url: config.url, schema: config.schema, max: 1, role: 'pg-eventstore writer' })
  const writer = new Writer(sql, config.schema, { maxBatchRows, openConnection, pipelineMinRows })
  t.teardown(async () => {
    await writer.stop()
    await closeDatabase(sql)
  })
  const positions = async () => (await sql`SELECT global_position FROM ${sql(sql.schema)}.events ORDER BY 1`).map((r) => r.global_position as number)
  /** A second writer on the same schema, as another process of the fleet would have. */
  const another = () => {
    const other = new Writer(sql, config.schema, { openConnection, pipelineMinRows })
    t.teardown(() => other.stop())
    return other
  }
  return { writer, positions, sql, schema: config.schema, another }
}

t.test('requests posted together share two pipelined transactions; requests arriving mid-flight share the next', async (t) => {
  const { writer, positions, sql } = await startWriter(t)
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.post(append(`a-${i}`))))
  t.same(writer.stats, { batches: 2, requests: 20, expected: 2, locking: 0 }, 'two halves, sent back to back')
  const first = writer.post(append('b-first'))
  await writerTurn() // the first batch is now in flight
  const rest = Array.from({ length: 10 }, (_, i) => writer.post(append(`b-${i}`)))
  await Promise.all([first, ...rest])
  t.same(writer.stats, { batches: 4, requests: 31, expected: 4, locking: 0 }, 'the ten arriving mid-flight went as one batch')
  t.same(await positions(), Array.from({ length: 31 }, (_, i) => i + 1))
  const order = await sql`SELECT s.stream_uuid FROM ${sql(sql.schema)}.events e JOIN ${sql(sql.schema)}.streams s USING (stream_id) ORDER BY e.global_position`
  const posted = [...Array.from({ length: 20 }, (_, i) => `a-${i}`), 'b-first', ...Array.from({ length: 10 }, (_, i) => `b-${i}`)]
  t.same(order.map((r) => r.stream_uuid), posted, 'pipelined batches commit in mailbox order')
})

t.test('by default small batches are not pipelined: requests posted together go as one batch; large ones go as two halves', async (t) => {
  const { writer, positions } = await startWriter(t, undefined, PIPELINE_MIN_ROWS)
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.post(append(`a-${i}`))))
  t.same(writer.stats, { batches: 1, requests: 20, expected: 1, locking: 0 }, 'twenty single events: one batch')
  const large = (streamId: string): WriteRequest => ({ type: 'append', streamId, expected: 0, events: Array.from({ length: PIPELINE_MIN_ROWS / 2 }, () => prepared()) })
  await Promise.all(Array.from({ length: 4 }, (_, i) => writer.post(large(`l-${i}`))))
  t.same(writer.stats, { batches: 3, requests: 24, expected: 3, locking: 0 }, 'four appends of half the threshold: two pipelined halves')
  t.equal((await positions()).length, 20 + 2 * PIPELINE_MIN_ROWS)
})

t.test('while another writer writes to the same $all, batches are not pipelined; once it stops, they are again', async (t) => {
  const { writer, positions, another } = await startWriter(t)
  const other = another()
  const together = (prefix: string) => Promise.all(Array.from({ length: 10 }, (_, i) => writer.post(append(`${prefix}-${i}`))))
  await writer.post(append('mine-1'))
  await other.post(append('theirs-1'))
  await writer.post(append('mine-2'))
  const before = writer.stats.batches
  await together('seen')
  t.equal(writer.stats.batches - before, 1, 'the other writer wrote between two of its writes: ten posted together went as one batch')
  await writer.post(append('mine-3'))
  const after = writer.stats.batches
  await together('alone')
  t.equal(writer.stats.batches - after, 2, 'nobody else wrote since: two pipelined halves again')
  t.same(await positions(), Array.from({ length: 24 }, (_, i) => i + 1), '$all stays gap-free')
})

t.test('pending appends: half is sent before the rest are prepared; a refused one fails alone', async (t) => {
  const { writer, positions, sql } = await startWriter(t)
  // Each prepare notes how many batches had been started by then.
  const startedWhenPrepared: Record<string, number> = {}
  const pending = (streamId: string, refuse = false): PendingAppend => ({
    type: 'pending append',
    expected: 0,
    eventCount: 1,
    prepare: () => {
      startedWhenPrepared[streamId] = writer.stats.batches
      if (refuse) throw new InvalidArgumentError(`events[0].data of ${streamId} cannot be stored`)
      return append(streamId)
    },
  })
  const names = Array.from({ length: 10 }, (_, i) => `p-${i}`)
  const results = await Promise.allSettled(names.map((name) => writer.post(pending(name, name === 'p-7'))))
  t.same(results.map(codeOf), names.map((name) => (name === 'p-7' ? 'invalid_argument' : 'ok')))
  t.same(
    names.map((name) => startedWhenPrepared[name]),
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    'the first five were prepared and sent before the other five were prepared',
  )
  t.same(writer.stats, { batches: 2, requests: 9, expected: 2, locking: 0 }, 'the refused append never reached a batch')
  const order = await sql`SELECT s.stream_uuid FROM ${sql(sql.schema)}.events e JOIN ${sql(sql.schema)}.streams s USING (stream_id) ORDER BY e.global_position`
  t.same(order.map((r) => r.stream_uuid), names.filter((name) => name !== 'p-7'), 'written in mailbox order')
  t.same(await positions(), Array.from({ length: 9 }, (_, i) => i + 1))

  // Appends with 'any_version' go the same way: half prepared and sent, the rest behind it.
  const anyVersion = (streamId: string): PendingAppend => ({
    type: 'pending append',
    expected: 'any_version',
    eventCount: 1,
    prepare: () => ({ type: 'append', streamId, expected: 'any_version', events: [prepared()] }),
  })
  await Promise.all(Array.from({ length: 6 }, (_, i) => writer.post(anyVersion(`any-${i}`))))
  t.same(writer.stats, { batches: 4, requests: 15, expected: 4, locking: 0 }, 'two one-statement batches for the six')

  // A first half refused whole: nothing of it is sent, not even an empty transaction.
  const burst = ['r-0', 'r-1', 'r-2', 'r-3']
  const refused = await Promise.allSettled(burst.map((name) => writer.post(pending(name, name === 'r-0' || name === 'r-1'))))
  t.same(refused.map(codeOf), ['invalid_argument', 'invalid_argument', 'ok', 'ok'])
  t.same(writer.stats, { batches: 6, requests: 17, expected: 6, locking: 0 }, 'the other two went half and half, as one-statement batches: no empty locking one')
})

t.test('a batch is capped by rows, but a larger single request still goes whole', async (t) => {
  const { writer } = await startWriter(t, 2)
  const big: WriteRequest = { type: 'append', streamId: 'big', expected: 0, events: [prepared(), prepared(), prepared()] }
  await Promise.all([writer.post(append('x')), writer.post(append('y')), writer.post(big), writer.post(append('z'))])
  // x and y fit one batch of 2 rows; with nothing in flight it is halved: x, y, big, z.
  t.same(writer.stats, { batches: 4, requests: 4, expected: 4, locking: 0 })
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
    await tx`SELECT 1 FROM ${tx(sql.schema)}.streams WHERE stream_id = 0 FOR UPDATE`
    locked()
    await held
  })
  await lockTaken
  // Two pipelined batches in flight (both waiting for the lock); what follows stays queued.
  const first = writer.post(append('first'))
  await writerTurn()
  const second = writer.post(append('second'))
  await writerTurn()
  t.same([writer.stats.batches, writer.queued], [2, 0], 'both batches were taken, one turn each')
  const controller = new AbortController()
  const aborted = writer.post(append('aborted'), { signal: controller.signal })
  const timedOut = writer.post(append('slow'), { timeout: 30 })
  const waiting = writer.post(append('waiting'))
  controller.abort()
  await t.rejects(aborted, { code: 'aborted' })
  await t.rejects(timedOut, { code: 'timeout' })
  release()
  await holder
  await Promise.all([first, second, waiting])
  t.same(writer.stats, { batches: 3, requests: 3, expected: 3, locking: 0 }, 'withdrawn requests never reached a batch')
  await t.rejects(writer.post(append('late'), { signal: AbortSignal.abort() }), { code: 'aborted' })
  await writer.stop()
  await t.rejects(writer.post(append('after')), { code: 'connection' })
})

t.test('exact expectations are written by one statement; a failed expectation falls back to the locking write', async (t) => {
  const { writer, positions } = await startWriter(t)
  await writer.post(appendAt('s', 0))
  await writer.post(appendAt('s', 1))
  t.same(writer.stats, { batches: 2, requests: 2, expected: 2, locking: 0 })
  // 's' exists, so the statement planned on "'s' does not exist" fails whole; the locking
  // write then refuses only that request.
  const results = await Promise.allSettled([writer.post(appendAt('s', 0)), writer.post(appendAt('n', 0)), writer.post(appendAt('s', 2))])
  t.same(results.map(codeOf), ['wrong_expected_version', 'ok', 'ok'])
  // Halves [s@0, n@0] and [s@2]: the first half's statement fails, and its locking write
  // then refuses only s@0; the second half was written by its own statement.
  t.same(writer.stats, { batches: 4, requests: 5, expected: 3, locking: 1 })
  t.same(await positions(), [1, 2, 3, 4], 'nothing of the failed statement was written')
})

t.test('the one-statement write checks its expectations under the lock, against other writers', async (t) => {
  const { writer, sql, positions } = await startWriter(t)
  const other = new Writer(sql, 'unused', {})
  t.teardown(() => other.stop())
  await writer.post(appendAt('shared', 0))
  await other.post(appendAt('shared', 1)) // behind this writer's back: 'shared' is now at 2
  await t.rejects(writer.post(appendAt('shared', 1)), { code: 'wrong_expected_version' })
  await sql`UPDATE ${sql(sql.schema)}.streams SET deleted_at = now() WHERE stream_uuid = 'shared'`
  await t.rejects(writer.post(appendAt('shared', 2)), { code: 'stream_deleted' }, 'a soft delete fails the expectation too')
  t.same(writer.stats, { batches: 3, requests: 3, expected: 1, locking: 2 })
  t.same(await positions(), [1, 2])
})

t.test("'any_version' and 'stream_exists' are written by one statement, counted from the version found under the lock; links take the locking write", async (t) => {
  const { writer, sql } = await startWriter(t)
  const other = new Writer(sql, 'unused', {})
  t.teardown(() => other.stop())
  await writer.post(appendAt('a', 'any_version')) // creates 'a'
  await writer.post(appendAt('a', 'stream_exists'))
  await other.post(appendAt('a', 2)) // behind this writer's back: 'a' is now at 3
  await Promise.all([writer.post(appendAt('b', 0)), writer.post(appendAt('a', 'any_version')), writer.post(appendAt('a', 'stream_exists'))])
  t.same(writer.stats, { batches: 4, requests: 5, expected: 4, locking: 0 }, 'every append went as one statement')
  const versions = await sql`SELECT e.stream_version::int AS v FROM ${sql(sql.schema)}.events e JOIN ${sql(sql.schema)}.streams s USING (stream_id) WHERE s.stream_uuid = 'a' ORDER BY e.global_position`
  t.same(versions.map((r) => r.v), [1, 2, 3, 4, 5], "'a' has no gap and no repeat, whoever wrote")
  const [stream] = await sql`SELECT stream_version::int AS v FROM ${sql(sql.schema)}.streams WHERE stream_uuid = 'a'`
  t.equal(stream?.v, 5)

  // Refusals are found by the statement failing as a whole, then told by the locking write.
  await t.rejects(writer.post(appendAt('missing', 'stream_exists')), { code: 'stream_not_found' })
  await sql`UPDATE ${sql(sql.schema)}.streams SET deleted_at = now() WHERE stream_uuid = 'b'`
  await t.rejects(writer.post(appendAt('b', 'any_version')), { code: 'stream_deleted' })
  await t.rejects(writer.post(appendAt('b', 'stream_exists')), { code: 'stream_deleted' })
  const [missing] = await sql`SELECT count(*)::int AS n FROM ${sql(sql.schema)}.streams WHERE stream_uuid = 'missing'`
  t.equal(missing?.n, 0, 'the refused stream_exists created nothing')
  const [eventId] = (await sql`SELECT event_id::text AS id FROM ${sql(sql.schema)}.events ORDER BY global_position LIMIT 1`).map((r) => r.id as string)
  await writer.post({ type: 'link', streamId: 'l', expected: 'any_version', eventIds: [eventId as string] })
  t.same(writer.stats, { batches: 8, requests: 9, expected: 4, locking: 4 })
})

t.test('committed batches are reported before their appends resolve; a batch that never reached the server is not reported', async (t) => {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 1 })
  const heard: string[] = []
  const writer = new Writer(sql, config.schema, {
    onCommitted: (committed) => heard.push(`committed ${committed.events.streams.join(',')}`),
    onOutcomeUnknown: () => heard.push('unknown'),
  })
  await writer.post(appendAt('a', 0)).then(() => heard.push('resolved'))
  await t.rejects(writer.post(appendAt('a', 0)), { code: 'wrong_expected_version' })
  t.same(heard, ['committed a', 'resolved'], 'a refused request is neither committed nor unknown')
  await closeDatabase(sql) // the pool is ended: the write is refused before anything is sent
  await t.rejects(writer.post(appendAt('a', 1)), { code: 'connection' })
  t.same(heard, ['committed a', 'resolved'], 'nothing was sent, so subscriptions need not look')
  await writer.stop()
})

t.test("a pipelined batch whose connection is gone fails as unknown; the next one writes on a new connection", async (t) => {
  const { writer, sql, schema, positions } = await startWriter(t)
  await writer.post(append('before'))
  const [killed] = await sql`SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${`pg-eventstore writer:${schema}`}) AS k`
  t.equal(killed?.n, 1, "the writer's pipeline connection was terminated")
  const lost = await writer.post(append('lost')).then(() => 'written', (error: { code: string }) => error.code)
  t.ok(lost === 'written' || lost === 'connection', `the next batch is written or fails as connection (${lost})`)
  await writer.post(append('after'))
  t.same((await positions()).length, lost === 'written' ? 3 : 2)
})

t.test("a batch taking a stream at any version does not overtake a batch in flight that writes that stream", async (t) => {
  const { writer, sql } = await startWriter(t)
  // Halved from idle: [a@0, missing 'stream_exists'] and, pipelined behind it, [a 'any_version', c@0].
  // The first statement fails (the missing stream) and is rewritten by the locking write: had
  // the second gone ahead of it, 'a' would exist by then and a@0 would be refused.
  const results = await Promise.allSettled([
    writer.post(appendAt('a', 0)),
    writer.post(appendAt('missing', 'stream_exists')),
    writer.post(appendAt('a', 'any_version')),
    writer.post(appendAt('c', 0)),
  ])
  t.same(results.map(codeOf), ['ok', 'stream_not_found', 'ok', 'ok'], 'each request as in mailbox order')
  const versions = await sql`SELECT e.stream_version::int AS v, e.global_position::int AS p FROM ${sql(sql.schema)}.events e JOIN ${sql(sql.schema)}.streams s USING (stream_id) WHERE s.stream_uuid = 'a' ORDER BY e.global_position`
  t.same(versions.map((r) => r.v), [1, 2])
})
