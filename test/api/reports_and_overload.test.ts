// The store's one reporting channel ('warning' / 'error' events, a logger, diagnostics
// channels) and the writer's bound (maxQueuedWrites → OverloadedError, nothing written).
import { subscribe as subscribeChannel, unsubscribe as unsubscribeChannel } from 'node:diagnostics_channel'
import t from 'tap'
import type { StoreReport } from '../../lib/reports.js'
import { Recorded } from '../helpers/changes.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('a full writer queue refuses appends with overloaded; nothing of them is written', async (t) => {
  const store = await startStore(t, { maxQueuedWrites: 5 })
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => store.appendToStream(`s-${i}`, 0, makeEvents(1))))
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))
  const written = codes.filter((c) => c === 'ok').length
  t.ok(written >= 5 && written < 50, `${written} appends were taken, the rest refused`)
  t.same(new Set(codes.filter((c) => c !== 'ok')), new Set(['overloaded']), 'the refused ones say overloaded')
  t.equal((await store.readAllStreamsForward()).length, written, 'only the taken ones are stored')
  await store.appendToStream('after', 0, makeEvents(1))
  t.pass('the writer takes appends again once its queue has room')
})

t.test("a failing subscriber reaches the store's 'error' listeners, the logger and the diagnostics channel", async (t) => {
  const logged: string[] = []
  const logger = { warn: (_: object, message?: string) => logged.push(`warn ${message}`), error: (_: object, message?: string) => logged.push(`error ${message}`) }
  const store = await startStore(t, { logger })
  const heard = new Recorded<StoreReport>()
  store.on('error', heard.push)
  const published: StoreReport[] = []
  const onPublish = (message: unknown) => published.push(message as StoreReport)
  subscribeChannel('pg-eventstore:error', onPublish)
  t.teardown(() => unsubscribeChannel('pg-eventstore:error', onPublish))
  await store.appendToStream('s', 0, makeEvents(1))
  const subscription = await store.subscribeToAllStreams('fails', async (message) => {
    if (message.type === 'events') throw new Error('projection broke')
  })
  await subscription.closed
  // The listener, the logger and the channel are told in one go.
  await heard.until(() => heard.items.length > 0, { within: 2000, what: 'the error report' })
  t.match(heard.items[0], { level: 'error', source: 'subscription', message: /projection broke/, details: { name: 'fails' } })
  t.ok(logged.some((line) => line.startsWith('error') && line.includes('projection broke')), 'the logger got it')
  t.ok(published.some((report) => report.message.includes('projection broke')), 'the diagnostics channel got it')
})

t.test('a logger or listener that throws does not turn a report into a crash', async (t) => {
  const logger = { warn: () => { throw new Error('logger down') }, error: () => { throw new Error('logger down') } }
  const store = await startStore(t, { logger })
  store.on('error', () => {
    throw new Error('listener down')
  })
  const subscription = await store.subscribeToAllStreams('fails', async (message) => {
    if (message.type === 'events') throw new Error('boom')
  })
  await store.appendToStream('s', 0, makeEvents(1))
  t.match(await subscription.closed, { reason: 'error' })
  await store.appendToStream('s', 1, makeEvents(1))
  t.pass('the store goes on')
})
