import type { Piscina } from 'piscina'
import t from 'tap'
import { ReaderPool, respawnDelay } from '../../lib/readers/reader_pool.js'

/** A pool whose reader actors all fail as they start, as with a worker file that cannot load. */
function failingPool() {
  let starts = 0
  const waiters: { count: number; resolve: () => void }[] = []
  const pool = {
    run: () => {
      starts += 1
      for (const waiter of waiters.filter((w) => w.count <= starts)) waiter.resolve()
      return Promise.reject(new Error('the worker could not start'))
    },
  }
  return {
    pool: pool as unknown as Piscina,
    starts: () => starts,
    /** Resolves once `count` actors have been started. */
    started: (count: number) => new Promise<void>((resolve) => (starts >= count ? resolve() : waiters.push({ count, resolve }))),
  }
}

t.test('an actor that ended young is replaced at once; more in a row wait pauses that double, up to a bound', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 7, 8, 20].map(respawnDelay), [0, 0, 100, 200, 400, 800, 3200, 5000, 5000])
})

t.test('reader actors that keep dying young are replaced, reads fail fast meanwhile, and close ends the replacing', async (t) => {
  const { pool, starts, started } = failingPool()
  const readers = new ReaderPool(pool, 1)
  // The pool's pauses do not keep a process alive (unref'd timers); this test must stay up.
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(alive))
  await started(3)
  await t.rejects(readers.run({ op: 'stream_info', streamId: 's' }), { code: 'connection' }, 'a read fails at once instead of waiting for a reader')
  await readers.close()
  const count = starts()
  // The replacement due next (after the third young death) would come respawnDelay(3) ms later.
  await new Promise((resolve) => setTimeout(resolve, respawnDelay(3) + 300))
  t.equal(starts(), count, 'no replacement after close')
})
