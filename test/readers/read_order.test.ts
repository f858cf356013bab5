import t from 'tap'
import { inReadOrder } from '../../lib/storage/read.js'

const rows = (...numbers: number[]) => numbers.map((n): [number, string] => [n, `event ${n}`])

t.test('rows already in the order asked for come back as they are', async (t) => {
  const forward = rows(1, 2, 5, 9)
  t.equal(inReadOrder(forward, 'forward'), forward, 'the same array: no copy, no sort')
  const backward = rows(9, 5, 2, 1)
  t.equal(inReadOrder(backward, 'backward'), backward)
  t.same(inReadOrder(rows(), 'forward'), [])
  t.same(inReadOrder(rows(7), 'backward'), rows(7))
})

t.test('rows out of order are sorted by event number, each with its own columns', async (t) => {
  t.same(inReadOrder(rows(2, 1, 3), 'forward'), rows(1, 2, 3))
  t.same(inReadOrder(rows(1, 3, 2), 'backward'), rows(3, 2, 1))
  t.same(inReadOrder(rows(4, 5, 1, 2, 3), 'forward'), rows(1, 2, 3, 4, 5), 'an order broken late in the page')
})
