import t from 'tap'
import { balancer } from '../../lib/actors/balancer.js'

const thread = (id: number, currentUsage: number, state: { terminating?: boolean } = {}) => ({ id, currentUsage, terminating: state.terminating ?? false, destroyed: false })
const task = (name: string) => ({ name })

t.test('other tasks go to the least busy thread below the limit', async (t) => {
  const place = balancer(3, 'actor')
  t.equal(place(task('default'), [thread(1, 2), thread(2, 1), thread(3, 2)])?.id, 2)
  t.equal(place(task('default'), [thread(1, 1), thread(2, 0), thread(3, 0)])?.id, 2, 'the first free thread')
  t.equal(place(task('default'), [thread(1, 3), thread(2, 3)]), null, 'none when all are full')
  t.equal(place(task('default'), [thread(1, 0, { terminating: true }), thread(2, 2)])?.id, 2, 'never a terminating thread')
})

t.test('the named task goes to a thread only once, whatever else runs there', async (t) => {
  const place = balancer(3, 'actor')
  t.equal(place(task('actor'), [thread(1, 0), thread(2, 0)])?.id, 1)
  t.equal(place(task('actor'), [thread(1, 0), thread(2, 2)])?.id, 2, 'thread 1 has one: the busier thread 2')
  t.equal(place(task('actor'), [thread(1, 0), thread(2, 0)]), null, 'both have one: it waits for a new thread')
  t.equal(place(task('actor'), [thread(1, 1), thread(2, 1), thread(3, 0)])?.id, 3, 'a replacement thread takes it')
  t.equal(place(task('default'), [thread(1, 1), thread(2, 0)])?.id, 2, 'other tasks still use every thread')
})
