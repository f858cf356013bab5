import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'

t.test('soft delete: no more reads or appends; events stay in $all and in linked streams', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('doomed', 0, makeEvents(3))
  await store.appendToStream('other', 0, makeEvents(1))
  const [first] = await store.readStreamForward('doomed')
  await store.linkToStream('links', 0, [first!])
  await t.rejects(store.deleteStream('doomed', 2), { code: 'wrong_expected_version' })
  await store.deleteStream('doomed', 3)
  await t.rejects(store.readStreamForward('doomed'), { code: 'stream_deleted' })
  await t.rejects(store.readStreamBackward('doomed'), { code: 'stream_deleted' })
  await t.rejects(store.appendToStream('doomed', 'any_version', makeEvents(1)), { code: 'stream_deleted' })
  await t.rejects(store.appendToStream('doomed', 3, makeEvents(1)), { code: 'stream_deleted' })
  await t.rejects(store.deleteStream('doomed', 'any_version'), { code: 'stream_deleted' })
  t.match(await store.streamInfo('doomed'), { status: 'deleted', streamVersion: 3 })
  t.ok((await store.streamInfo('doomed')).deletedAt instanceof Date)
  t.same(numbersOf(await store.readAllStreamsForward()), [1, 2, 3, 4], 'its events stay in $all')
  t.same((await store.readStreamForward('links')).map((e) => e.streamId), ['doomed'], 'and in streams linking them')
  await t.rejects(store.deleteStream('never', 'any_version'), { code: 'stream_not_found' })
  await t.rejects(store.deleteStream('$all', 'any_version'), { code: 'invalid_argument' })
  await t.rejects(store.deleteStream('other', 1, 'hard'), { code: 'invalid_argument' }, 'hard deletes are off by default')
  await t.rejects(store.deleteStream('other', 1, 'gone' as never), { code: 'invalid_argument' })
  t.equal((await store.readStreamForward('other')).length, 1)
})

t.test('hard delete: the stream, its events and links go; $all keeps a gap; the id starts over', async (t) => {
  const store = await startStore(t, { enableHardDeletes: true })
  await store.appendToStream('keep', 0, makeEvents(1))
  await store.appendToStream('gone', 0, makeEvents(2))
  await store.appendToStream('keep', 1, makeEvents(1, 2))
  const gone = await store.readStreamForward('gone')
  const [kept] = await store.readStreamForward('keep')
  await store.linkToStream('mixed', 0, [gone[0]!, kept!])
  await store.linkToStream('gone', 2, [kept!])
  const inbox = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('after-delete', inbox.subscriber)
  await inbox.receive('subscribed')
  await inbox.receiveEvents(4)
  await store.deleteStream('gone', 3, 'hard')
  await t.rejects(store.readStreamForward('gone'), { code: 'stream_not_found' })
  await t.rejects(store.streamInfo('gone'), { code: 'stream_not_found' })
  t.same(numbersOf(await store.readAllStreamsForward()), [1, 4], '$all steps over the gap')
  t.same(numbersOf(await store.readAllStreamsBackward()), [4, 1])
  t.same((await store.readStreamForward('mixed')).map((e) => e.streamId), ['keep'], 'links to its events are gone')
  t.same((await store.readStreamForward('keep')).length, 2, 'linked-into events of other streams stay')
  await store.appendToStream('gone', 0, makeEvents(1))
  t.same((await store.readStreamForward('gone')).map((e) => [e.streamVersion, e.eventNumber]), [[1, 1]], 'the id starts again from version 1')
  t.same(numbersOf(await inbox.receiveEvents(1)), [5], 'a subscription steps over the gap')
  await store.unsubscribeFromAllStreams('after-delete')
  const again = new Inbox({ autoAck: true })
  await store.subscribeToAllStreams('fresh', again.subscriber)
  await again.receive('subscribed')
  t.same(numbersOf(await again.receiveEvents(3)), [1, 4, 5], 'a new subscription reads across the gap')
})

t.test('a soft-deleted stream may still be hard-deleted; deletes queue in order with appends', async (t) => {
  const store = await startStore(t, { enableHardDeletes: true })
  await store.appendToStream('s', 0, makeEvents(1))
  const results = await Promise.allSettled([
    store.appendToStream('s', 1, makeEvents(1)),
    store.deleteStream('s', 2),
    store.appendToStream('s', 2, makeEvents(1)),
    store.deleteStream('s', 'any_version', 'hard'),
    store.appendToStream('s', 0, makeEvents(1)),
  ])
  t.same(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)), ['ok', 'ok', 'stream_deleted', 'ok', 'ok'])
  t.equal((await store.streamInfo('s')).streamVersion, 1)
})
