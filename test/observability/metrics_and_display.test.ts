// Pure parts of observability: histograms, the holder's name, the CLI's tables and progress.
import t from 'tap'
import { Progress } from '../../lib/cli/progress.js'
import { formatEvent, subscriptionTable } from '../../lib/cli/observe.js'
import { lockSessionRole, parseHolder } from '../../lib/storage/holder.js'
import { Histogram } from '../../lib/observability/metrics.js'
import type { SubscriptionStatus } from '../../lib/observability/status.js'

t.test('a histogram counts into buckets and estimates quantiles from them', async (t) => {
  const h = new Histogram([1, 10, 100])
  t.match(h.snapshot(), { count: 0, min: null, p50: null })
  for (const v of [0.5, 2, 3, 4, 50, 500]) h.record(v)
  const s = h.snapshot()
  t.match(s, { count: 6, sum: 559.5, min: 0.5, max: 500 })
  t.same(s.buckets.map((b) => b.count), [1, 3, 1, 1])
  t.equal(s.p50, 10, 'half the values are at most 10')
  t.equal(s.p99, 500, 'beyond the last bound: the largest value')
})

t.test("a lock session's application_name names host and pid; other names fall back to the address", async (t) => {
  const role = lockSessionRole()
  t.same(parseHolder(`${role}:orders`, '10.0.0.5', 255), { host: role.split('@')[1], pid: process.pid, store: '000000ff' })
  t.same(parseHolder('psql', '10.0.0.5'), { host: '10.0.0.5', pid: null, store: null })
  t.same(parseHolder(null, null), { host: 'localhost', pid: null, store: null })
  t.same(parseHolder('pg-eventstore locks 42@a-very-long-host-name-cut-by-postgr', null), { host: 'a-very-long-host-name-cut-by-postgr', pid: 42, store: null }, 'a cut name still parses')
})

t.test('status and events read well on a terminal', async (t) => {
  const row: SubscriptionStatus = {
    name: 'projector', streamId: '$all', state: 'catching_up', checkpoint: 10, head: 25, lag: { events: 15, seconds: 2.5 },
    holder: { host: 'app-1', pid: 99, store: '0000abcd' }, subscribers: 2, checkpointAge: 1, local: true,
  }
  const table = subscriptionTable([row], true).split('\n')
  t.match(table[0], /^NAME\s+STREAM\s+STATE\s+CHECKPOINT\s+HEAD\s+LAG\s+LAG TIME\s+HOLDER\s+SUBSCRIBERS$/)
  t.match(table[1], /^projector\s+\$all\s+catching_up\s+10\s+25\s+15\s+2\.5 s\s+app-1:99\/0000abcd\s+2$/)
  t.equal(subscriptionTable([], true), 'no subscriptions')
  t.same(JSON.parse(subscriptionTable([row], false)), row, 'one JSON object per line off a terminal')
  const event = { eventNumber: 3, eventId: 'id', streamId: 's', streamVersion: 3, eventType: 'E', data: { a: [1] }, metadata: {}, causationId: null, correlationId: null, createdAt: new Date(0) }
  t.match(formatEvent(event, true), /^#3 {2}E {2}s@3 {2}1970-01-01T00:00:00.000Z {2}id\n {2}data: {5}\{\n {6}"a"/)
  t.same(JSON.parse(formatEvent(event, false)).data, { a: [1] })
})

t.test('progress draws a bar on a terminal and nothing elsewhere', async (t) => {
  const written: string[] = []
  const tty = { write: (text: string) => written.push(text), isTTY: true }
  const progress = new Progress(tty, 'events', 10)
  progress.advance(5)
  progress.done()
  t.match(written.join(''), /\r\[#{15}\.{15}\] 5\/10 events\n$/)
  const quiet: string[] = []
  const piped = new Progress({ write: (text: string) => quiet.push(text), isTTY: false }, 'events', 10)
  piped.advance(10)
  piped.done()
  t.same(quiet, [])
})
