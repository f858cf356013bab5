import t from 'tap'
import { pause } from '../../lib/actors/timeout.js'

t.test('pause waits its time, or ends as soon as the signal aborts, without rejecting', async (t) => {
  // pause keeps no process alive: something else must, here.
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(alive))
  const started = performance.now()
  await pause(30, new AbortController().signal)
  t.ok(performance.now() - started >= 25, 'waited its time')
  const controller = new AbortController()
  const waiting = pause(60_000, controller.signal)
  controller.abort()
  t.equal(await waiting, undefined, 'ended by the abort')
  t.equal(await pause(60_000, controller.signal), undefined, 'an aborted signal: at once')
})
