import t from 'tap'
import { OtherWriters } from '../../lib/writer/other_writers.js'

t.test('another writer is seen when $all moved between two of this writer’s writes', async (t) => {
  const others = new OtherWriters()
  others.wrote(10, 12)
  t.equal(others.seen, false, 'a first write only sets the mark')
  others.wrote(12, 15)
  t.equal(others.seen, false, 'found where it was left')
  others.wrote(20, 21)
  t.equal(others.seen, true, 'someone wrote 15..20')
  others.wrote(21, 22)
  t.equal(others.seen, false, 'and stopped')
})

t.test('after a write not counted, the next write only sets the mark', async (t) => {
  const others = new OtherWriters()
  others.wrote(0, 1)
  others.wrote(5, 6)
  t.equal(others.seen, true)
  others.forget()
  others.wrote(9, 10)
  t.equal(others.seen, true, 'unknown: the last judgement stands')
  others.wrote(10, 11)
  t.equal(others.seen, false)
})

