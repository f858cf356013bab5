// concurrencyLimit holds when subscribes arrive at the same time: the place is taken before
// the first await. Each event then goes to one subscriber of the group.
import t from 'tap'
import { Changes } from '../helpers/changes.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox, numbersOf } from '../helpers/inbox.js'
import { within } from '../helpers/settles.js'

for (const [limit, callers] of [
  [1, 5],
  [2, 5],
] as const) {
  t.test(`${callers} simultaneous subscribes with concurrencyLimit ${limit}: ${limit} succeed, every event goes to one of them`, async (t) => {
    const store = await startStore(t)
    const changes = new Changes()
    const inboxes = Array.from({ length: callers }, () => new Inbox({ autoAck: true, changes }))
    const results = await Promise.allSettled(inboxes.map((inbox) => store.subscribeToAllStreams('group', inbox.subscriber, { concurrencyLimit: limit, bufferSize: 10 })))
    const joined = inboxes.filter((_, i) => results[i]?.status === 'fulfilled')
    t.equal(joined.length, limit, `${limit} subscribed`)
    t.same(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
      Array(callers - limit).fill('subscription_already_exists'),
      'the others were refused',
    )
    for (const inbox of joined) await inbox.receive('subscribed')
    for (let i = 0; i < 10; i += 1) await store.appendToStream(`s-${i}`, 0, makeEvents(100))
    const seenNow = () => joined.flatMap((inbox) => inbox.messages.flatMap((message) => (message.type === 'events' ? numbersOf(message.events) : [])))
    await changes.until(() => seenNow().length >= 1000, { within: 20_000 }).catch(() => {})
    const seen = seenNow()
    t.same(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i + 1),
      'each of the 1,000 events delivered once, to one subscriber',
    )
    t.not(await within(store.unsubscribeFromAllStreams('group'), 10_000), 'hung', 'unsubscribe completes')
  })
}
