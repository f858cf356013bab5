import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('record, read, replace and delete a snapshot', async (t) => {
  const store = await startStore(t)
  await t.rejects(store.readSnapshot('account-1'), { code: 'snapshot_not_found', name: 'SnapshotNotFoundError' })
  await store.recordSnapshot({ sourceUuid: 'account-1', sourceVersion: 3, sourceType: 'Account', data: { balance: 30 } })
  t.match(await store.readSnapshot('account-1'), { sourceUuid: 'account-1', sourceVersion: 3, sourceType: 'Account', data: { balance: 30 }, metadata: {} })
  await store.recordSnapshot({ sourceUuid: 'account-1', sourceVersion: 7, sourceType: 'Account.V2', data: { balance: 70 }, metadata: { by: 'test' } })
  const latest = await store.readSnapshot('account-1')
  t.match(latest, { sourceVersion: 7, sourceType: 'Account.V2', data: { balance: 70 }, metadata: { by: 'test' } })
  t.ok(latest.createdAt instanceof Date)
  await store.deleteSnapshot('account-1')
  await t.rejects(store.readSnapshot('account-1'), { code: 'snapshot_not_found' })
  await store.deleteSnapshot('account-1')
  for (const bad of [
    { sourceUuid: '', sourceVersion: 1, sourceType: 'A', data: {} },
    { sourceUuid: 'a', sourceVersion: -1, sourceType: 'A', data: {} },
    { sourceUuid: 'a', sourceVersion: 1, sourceType: '', data: {} },
    { sourceUuid: 'a', sourceVersion: 1, sourceType: 'A', data: { x: Number.NaN } },
    { sourceUuid: 'a', sourceVersion: 1, sourceType: 'A' },
  ]) await t.rejects(store.recordSnapshot(bad as never), { code: 'invalid_argument' })
  await t.rejects(store.readSnapshot('a'), { code: 'snapshot_not_found' }, 'nothing was written')
})

t.test('paginate streams: pages, totals, sorting, search, deleted streams', async (t) => {
  const store = await startStore(t, { enableHardDeletes: true })
  for (const [id, count] of [['order-1', 3], ['order-2', 1], ['user-1', 2], ['order_x', 4], ['gone', 1]] as const) {
    await store.appendToStream(id, 0, makeEvents(count))
  }
  await store.deleteStream('user-1', 2)
  await store.deleteStream('gone', 1, 'hard')
  const first = await store.paginateStreams({ pageSize: 2 })
  t.match(first, { pageNumber: 1, pageSize: 2, totalEntries: 4, totalPages: 2 })
  t.same(first.entries.map((e) => e.streamId), ['order-1', 'order-2'], 'by creation, oldest first')
  const second = await store.paginateStreams({ page: 2, pageSize: 2 })
  t.same(second.entries.map((e) => [e.streamId, e.status]), [['user-1', 'deleted'], ['order_x', 'created']])
  t.same((await store.paginateStreams({ sortBy: 'streamVersion', sortDir: 'desc' })).entries.map((e) => e.streamVersion), [4, 3, 2, 1])
  t.same((await store.paginateStreams({ sortBy: 'streamId' })).entries.map((e) => e.streamId), ['order-1', 'order-2', 'order_x', 'user-1'])
  t.same((await store.paginateStreams({ sortBy: 'deletedAt', sortDir: 'desc' })).entries[0]?.streamId, 'user-1')
  t.same((await store.paginateStreams({ search: 'ORDER' })).entries.map((e) => e.streamId), ['order-1', 'order-2', 'order_x'])
  t.same((await store.paginateStreams({ search: '_' })).entries.map((e) => e.streamId), ['order_x'], 'wildcards are searched literally')
  t.match(await store.paginateStreams({ page: 9 }), { entries: [], totalEntries: 4, totalPages: 1 })
  await t.rejects(store.paginateStreams({ sortBy: 'size' as never }), { code: 'invalid_argument' })
  await t.rejects(store.paginateStreams({ page: 0 }), { code: 'invalid_argument' })
  await t.rejects(store.paginateStreams({ sortDir: 'up' as never }), { code: 'invalid_argument' })
})
