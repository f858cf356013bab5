import type { Piscina } from 'piscina'
import t from 'tap'
import { ReaderPool } from '../../lib/readers/reader_pool.js'

/** A pool whose reader actors all fail as they start, as with a worker file that cannot load. */
function failingPool() {
  const starts: number[] = []
  const pool = {
    run: () => {
      starts.push(Date.now())
      return Promise.reject(new Error('the worker could not start'))
    },
  }
  return { pool: pool as unknown as Piscina, starts }
}

t.test('reader actors that keep dying young are replaced with growing pauses, and reads fail fast meanwhile', async (t) => {
  const { pool, starts } = failingPool()
  const readers = new ReaderPool(pool, 1)
  await new Promise((resolve) => setTimeout(resolve, 700))
  await t.rejects(readers.run({ op: 'stream_info', streamId: 's' }), { code: 'connection', message: /no reader worker is running/ })
  await readers.close()
  const count = starts.length
  // The first replacement at once, then after 100 and 200 ms (the next, 400 ms later, comes after close).
  const gaps = starts.slice(1).map((at, i) => at - (starts[i] as number))
  t.equal(count, 4, `starts ${gaps.join(', ')} ms apart`)
  t.ok((gaps[0] as number) < 50, 'the first replacement at once')
  t.ok((gaps[1] as number) >= 90 && (gaps[2] as number) >= 190, 'then pauses that double')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(starts.length, count, 'no replacement after close')
})
