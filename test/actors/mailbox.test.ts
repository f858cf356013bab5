import t from 'tap'
import { Mailbox } from '../../lib/actors/mailbox.js'

const contents = <M>(mailbox: Mailbox<M>) => Array.from({ length: mailbox.length }, (_, i) => mailbox.at(i))

t.test('messages are received in the order posted; a receive waiting for one gets the next posted', async (t) => {
  const mailbox = new Mailbox<string>()
  mailbox.post('a')
  mailbox.post('b')
  t.equal(await mailbox.receive(), 'a')
  t.equal(await mailbox.receive(), 'b')
  const waiting = mailbox.receive()
  mailbox.post('c')
  t.equal(await waiting, 'c')
  t.equal(mailbox.length, 0, 'a message handed to a waiting receive is not queued too')
})

t.test('shift takes from the head, at reads ahead of it, unshiftAll puts a batch back in its order', async (t) => {
  const mailbox = new Mailbox<number>()
  for (let i = 1; i <= 5; i += 1) mailbox.post(i)
  t.equal(mailbox.shift(), 1)
  t.equal(mailbox.shift(), 2)
  t.same([mailbox.at(0), mailbox.at(2), mailbox.at(3)], [3, 5, undefined])
  mailbox.unshiftAll([1, 2])
  t.same(contents(mailbox), [1, 2, 3, 4, 5])
  t.equal(new Mailbox<number>().shift(), undefined, 'an empty mailbox gives nothing')
})

t.test('thousands of messages keep their order while the taken prefix is dropped', async (t) => {
  const mailbox = new Mailbox<number>()
  const taken: number[] = []
  for (let i = 0; i < 5000; i += 1) {
    mailbox.post(i)
    if (i % 3 === 0) taken.push(mailbox.shift() as number)
  }
  while (mailbox.length > 0) taken.push(mailbox.shift() as number)
  t.same(taken, Array.from({ length: 5000 }, (_, i) => i))
})
