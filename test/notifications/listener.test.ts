import postgres from 'postgres'
import t, { type Test } from 'tap'
import { EventStore } from '../../lib/event_store.js'
import { Listener, POLL_MS } from '../../lib/notifications/listener.js'
import { concerns, type Notification, parseNotification } from '../../lib/notifications/notification.js'
import { notificationPayload } from '../../lib/storage/notifications.js'
import { closeDatabase, openDatabase } from '../../lib/storage/database.js'
import { freshStoreConfig } from '../helpers/database.js'
import { Recorded } from '../helpers/changes.js'
import { makeEvents } from '../helpers/events.js'

/** A Listener on a fresh store's schema (or on another channel), stopped when the test ends. */
async function listening(t: Test, channelSchema?: (schema: string) => string) {
  const config = await freshStoreConfig(t)
  const sql = openDatabase({ url: config.url, schema: config.schema, max: 2 })
  const recorded = new Recorded<Notification>()
  const listener = new Listener(sql, sql, channelSchema?.(config.schema) ?? config.schema, recorded.push)
  await listener.start()
  t.teardown(async () => {
    await listener.stop()
    await closeDatabase(sql)
  })
  const waitFor = (predicate: (n: Notification) => boolean, within = 5000) => recorded.until(() => recorded.items.some(predicate), { within, what: 'a matching notification' })
  return { config, received: recorded.items, waitFor }
}

t.test('payloads name the positions and streams written; links name their streams', async (t) => {
  const { config, received, waitFor } = await listening(t)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await Promise.all([store.appendToStream('a', 0, makeEvents(2)), store.appendToStream('b', 0, makeEvents(1))])
  await waitFor((n) => n.last === 3)
  const written = received.filter((n) => n.last !== null)
  t.same([...new Set(written.flatMap((n) => n.streams ?? []))].sort(), ['a', 'b'])
  const [event] = await store.readStreamForward('a')
  await store.linkToStream('linked', 0, [event!])
  await waitFor((n) => n.streams?.includes('linked') ?? false)
  t.ok(received.some((n) => n.last === null && n.streams?.[0] === 'linked' && n.origin === null), 'a link notification has no position, and no origin: it is not handed off')
  await store.appendToStream('c', 'any_version', makeEvents(2))
  await waitFor((n) => n.last === 5)
  t.same(received.find((n) => n.last === 5)?.streams, ['c'])
  const origins = new Set(received.filter((n) => n.last !== null).map((n) => n.origin))
  t.equal(origins.size, 1, 'every append is signed with one origin')
  t.match([...origins][0], /^[0-9a-f]{16}$/, "the store's origin: its own subscriptions were handed the events")
})

t.test('after the listening connection is killed, a re-listen wakes everyone', async (t) => {
  const { config, received, waitFor } = await listening(t)
  received.length = 0
  const admin = postgres(config.url, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${`pg-eventstore:${config.schema}`} AND query ILIKE 'listen%'`
  await waitFor((n) => n.last === null && n.streams === null)
  t.pass('woke every subscription to catch up, without waiting for a new event')
})

t.test('where notifications never arrive, the poll still reports new events', async (t) => {
  // Listening on another schema's channel: no NOTIFY of this store is ever heard.
  const { config, received, waitFor } = await listening(t, (schema) => `${schema}_silent`)
  const store = await EventStore.start(config)
  t.teardown(() => store.stop())
  await store.appendToStream('a', 0, makeEvents(2))
  await waitFor((n) => n.last === 2, POLL_MS * 2 + 1000)
  t.same(received.find((n) => n.last === 2), { last: 2, streams: null, origin: null })
})

t.test('parse and route', async (t) => {
  t.same(parseNotification('{"first" : 1, "last" : 4, "streams" : ["a","b"]}'), { last: 4, streams: ['a', 'b'], origin: null })
  t.same(parseNotification('{"first" : null, "last" : null, "streams" : ["l"]}'), { last: null, streams: ['l'], origin: null })
  t.same(parseNotification('not json'), { last: null, streams: null, origin: null })
  t.same(parseNotification(notificationPayload(5, 7, ['x'], null)), { last: 7, streams: ['x'], origin: null })
  t.same(parseNotification(notificationPayload(5, 7, ['x'], 'c0ffee00c0ffee00')), { last: 7, streams: ['x'], origin: 'c0ffee00c0ffee00' })
  const many = Array.from({ length: 500 }, (_, i) => `stream-number-${i}`)
  t.same(parseNotification(notificationPayload(1, 500, many, 'c0ffee00c0ffee00')), { last: 500, streams: null, origin: 'c0ffee00c0ffee00' }, 'too many streams for one payload: everyone checks')
  const at = (last: number | null, streams: string[] | null): Notification => ({ last, streams, origin: null })
  t.ok(concerns(at(4, ['a']), '$all'))
  t.notOk(concerns(at(null, ['l']), '$all'), 'links are not in $all')
  t.ok(concerns(at(4, ['a']), 'a'))
  t.notOk(concerns(at(4, ['a']), 'b'))
  t.ok(concerns(at(null, null), 'b'))
})
