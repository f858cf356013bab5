import { randomUUID } from 'node:crypto'
import t from 'tap'
import { type ColumnDataType, encodeTerm } from '../../lib/serializer.js'
import type { CommittedEvents } from '../../lib/storage/write_plan.js'
import { closeDatabase, openDatabase } from '../../lib/storage/database.js'
import { parsePage, runRead } from '../../lib/storage/read.js'
import { handedOffEvents, handOffFor } from '../../lib/subscriptions/hand_off.js'
import type { RecordedEvent } from '../../lib/types.js'
import type { PreparedEvent } from '../../lib/writer/messages.js'
import { checkUuid } from '../../lib/validation.js'
import { Writer } from '../../lib/writer/writer.js'
import { freshStoreConfig, startStore } from '../helpers/database.js'
import { Inbox } from '../helpers/inbox.js'

// Data whose keys jsonb reorders: longer before shorter, non-ASCII, integer-like, nested.
const awkward = (n: number) => ({ zeta: n, b: [{ yy: 1, x: 2 }], 'é': 'accent', aa: { 10: 'ten', 2: 'two', c: null }, '': 'empty' })

function prepared(column: ColumnDataType, data: unknown, ids: { event: string; correlation: string | null }): PreparedEvent {
  const codec = { column, serializer: null }
  return {
    eventId: ids.event,
    eventType: 'Odd "type", with {braces}',
    causationId: null,
    correlationId: ids.correlation,
    dataJson: encodeTerm(codec, data, 'data', 'E'),
    metadataJson: encodeTerm(codec, { user: 'u', at: 1 }, 'metadata', 'E'),
    idGiven: true,
  }
}

/** Same events, same order, same keys in the same order, same dates. */
const asText = (events: RecordedEvent[]) => JSON.stringify(events)

for (const column of ['jsonb', 'bytea'] as const) {
  t.test(`events handed to subscriptions are exactly what a read returns (${column})`, async (t) => {
    const config = await freshStoreConfig(t, { columnDataType: column })
    const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
    const committed: CommittedEvents[] = []
    const writer = new Writer(sql, config.schema, { onCommitted: (c) => committed.push(c) })
    t.teardown(async () => {
      await writer.stop()
      await closeDatabase(sql)
    })
    const givenId = () => checkUuid(randomUUID().toUpperCase(), 'id') // as appendToStream prepares a caller's id
    // The one-statement write with exact versions, then with any_version (versions counted
    // from those found), then a batch whose wrong expectation sends it to the locking write,
    // each with another stream in the same batch; then a link, which is not handed off.
    await Promise.all([
      writer.post({ type: 'append', streamId: 'x', expected: 0, events: [0, 1].map((n) => prepared(column, awkward(n), { event: givenId(), correlation: givenId() })) }),
      writer.post({ type: 'append', streamId: 'other', expected: 0, events: [prepared(column, null, { event: randomUUID(), correlation: null })] }),
    ])
    await Promise.all([
      writer.post({ type: 'append', streamId: 'x', expected: 'any_version', events: [prepared(column, awkward(2), { event: givenId(), correlation: null })] }),
      writer.post({ type: 'append', streamId: 'other', expected: 'any_version', events: [prepared(column, [3, 'three'], { event: randomUUID(), correlation: null })] }),
    ])
    const refused = writer.post({ type: 'append', streamId: 'x', expected: 1, events: [prepared(column, awkward(4), { event: givenId(), correlation: null })] })
    await Promise.all([
      t.rejects(refused, { code: 'wrong_expected_version' }),
      writer.post({ type: 'append', streamId: 'other', expected: 'stream_exists', events: [prepared(column, { four: 4 }, { event: randomUUID(), correlation: null })] }),
    ])
    t.match(writer.stats, { expected: 2, locking: 1 })
    const [stored] = (await sql`SELECT event_id FROM ${sql(config.schema)}.events WHERE stream_version = 1 ORDER BY global_position LIMIT 1`) as unknown as { event_id: string }[]
    await writer.post({ type: 'link', streamId: 'linked', expected: 0, eventIds: [stored?.event_id as string] })
    t.equal(committed.length, 3, 'one hand-off per batch of appends; none for the link')

    const read = async (streamId: string) => {
      const task = streamId === '$all' ? ({ op: 'read_all', start: 1, count: 100, direction: 'forward' } as const) : ({ op: 'read_stream', streamId, start: 1, count: 100, direction: 'forward' } as const)
      const result = await runRead(sql, task, column)
      return result.status === 'found' ? parsePage(result.events) : []
    }
    const handedOff = (streamId: string) =>
      committed.flatMap((c) => {
        const handOff = handOffFor(c, streamId)
        return handOff ? handedOffEvents(handOff, streamId, column) : []
      })
    for (const streamId of ['x', 'other', '$all']) {
      const fromRead = await read(streamId)
      t.equal(fromRead.length, streamId === '$all' ? 6 : streamId === 'x' ? 3 : 3, `${streamId}: all events read`)
      t.equal(asText(handedOff(streamId)), asText(fromRead), `${streamId}: handed off as read`)
    }
    t.same(handOffFor(committed[0] as CommittedEvents, 'linked'), null, 'a stream the batch did not touch gets nothing')
    const last = committed.map((c) => handOffFor(c, 'x')?.last)
    t.same(last, [3, 5, undefined], "a stream's hand-off carries the end of the whole batch in $all")
  })
}

t.test('live subscribers get the same events as a later read, key order included', async (t) => {
  const store = await startStore(t)
  const onStream = new Inbox({ autoAck: true })
  const onAll = new Inbox({ autoAck: true })
  const onAllToo = new Inbox({ autoAck: true }) // two $all actors: they share one copy of each batch
  await store.subscribeToStream('x', 'live', onStream.subscriber, { bufferSize: 10 })
  await store.subscribeToAllStreams('live', onAll.subscriber, { bufferSize: 10 })
  await store.subscribeToAllStreams('live-too', onAllToo.subscriber, { bufferSize: 10 })
  for (const inbox of [onStream, onAll, onAllToo]) await inbox.receive('subscribed')
  await store.appendToStream('x', 0, [0, 1, 2].map((n) => ({ eventType: 'E', data: awkward(n), correlationId: randomUUID().toUpperCase() })))
  await store.appendToStream('x', 3, [{ eventType: 'E', data: awkward(3) }])
  t.equal(asText(await onStream.receiveEvents(4)), asText(await store.readStreamForward('x')), 'stream subscription')
  const all = asText(await store.readAllStreamsForward())
  t.equal(asText(await onAll.receiveEvents(4)), all, '$all subscription')
  t.equal(asText(await onAllToo.receiveEvents(4)), all, 'another $all subscription')
})

t.test('a batch that appends to a stream and links to it in one go reaches its subscription in order', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('origin', 0, [{ eventType: 'E', data: { n: 0 } }])
  const [origin] = await store.readStreamForward('origin')
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToStream('mixed', 'mixed', inbox.subscriber, { bufferSize: 10 })
  await inbox.receive('subscribed')
  // Posted in one tick: one batch, with a link, so it is not handed off; the subscription reads.
  await Promise.all([store.appendToStream('mixed', 0, [{ eventType: 'E', data: { n: 1 } }]), store.linkToStream('mixed', 1, [origin!])])
  const events = await inbox.receiveEvents(2)
  t.same(events.map((e) => [e.eventNumber, e.streamId]), [[1, 'mixed'], [2, 'origin']])
  t.equal(asText(events), asText(await store.readStreamForward('mixed')))
})
