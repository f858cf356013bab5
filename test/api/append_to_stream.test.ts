import t from 'tap'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'

t.test('append to a new stream with expected version 0, then read it back', async (t) => {
  const store = await startStore(t)
  await store.appendToStream('stream-1', 0, makeEvents(3))
  const events = await store.readStreamForward('stream-1')
  t.same(events.map((e) => e.streamVersion), [1, 2, 3])
  t.same(events.map((e) => e.data), [{ n: 1 }, { n: 2 }, { n: 3 }])
})
