// An actor's locks on a worker thread (lib/locks/remote.ts), taken on the store's lock session
// over its task's port (lib/locks/host.ts): calls and what the session tells a holder reach
// the right end, and a call to a port closed by either side rejects instead of hanging.
import { setImmediate as tick } from 'node:timers/promises'
import t from 'tap'
import { LockHost } from '../../lib/locks/host.js'
import type { LockHolder, Locks } from '../../lib/locks/lock_session.js'
import { RemoteLocks } from '../../lib/locks/remote.js'
import type { Report } from '../../lib/reports.js'
import { within } from '../helpers/settles.js'

/** The store's session, as the main thread's LockHost sees it: records what it is asked. */
class FakeSession implements Locks {
  readonly holders = new Map<string, LockHolder>()
  readonly unlocked: [string, boolean][] = []
  /** While set, tryLock never answers. */
  stuck = false

  tryLock(name: string, holder: LockHolder): Promise<boolean> {
    if (this.stuck) return new Promise(() => {})
    this.holders.set(name, holder)
    return Promise.resolve(true)
  }

  async unlock(name: string, leave = false): Promise<void> {
    this.holders.delete(name)
    this.unlocked.push([name, leave])
  }
}

function actor(session: Locks) {
  const reports: string[] = []
  const report: Report = (_level, _source, message) => reports.push(message)
  const host = new LockHost(session, report)
  const remote = new RemoteLocks(host.port)
  t.teardown(() => {
    remote.close()
    host.close()
  })
  return { host, remote, reports }
}

function holder() {
  const told: string[] = []
  return { told, holder: { lost: () => told.push('lost'), handOver: () => told.push('hand_over') } satisfies LockHolder }
}

t.test('what the session tells a holder reaches that holder only', async (t) => {
  const session = new FakeSession()
  const one = actor(session)
  const two = actor(session)
  const a = holder()
  const b = holder()
  t.equal(await one.remote.tryLock('a', a.holder), true)
  t.equal(await two.remote.tryLock('b', b.holder), true)
  session.holders.get('a')?.lost()
  session.holders.get('b')?.handOver()
  await tick()
  await tick()
  t.same(a.told, ['lost'])
  t.same(b.told, ['hand_over'])
  t.same([...one.reports, ...two.reports], [])
})

t.test('unlock reaches the session when held or when leaving, not for a lock already lost', async (t) => {
  const session = new FakeSession()
  const { remote } = actor(session)
  const a = holder()
  await remote.tryLock('a', a.holder)
  session.holders.get('a')?.lost()
  await tick()
  await tick()
  await remote.unlock('a')
  await remote.tryLock('b', holder().holder)
  await remote.unlock('b')
  await remote.unlock('c', true)
  t.same(session.unlocked, [
    ['b', false],
    ['c', true],
  ])
})

t.test('a lock call to a port the main thread closed rejects instead of hanging', async (t) => {
  const session = new FakeSession()
  session.stuck = true
  const { host, remote } = actor(session)
  const pending = remote.tryLock('a', holder().holder)
  await tick()
  host.close()
  const settled = await within(pending.catch((error: unknown) => error), 1000)
  t.not(settled, 'hung', 'the pending call settled')
  t.match(settled, { code: 'connection' })
  t.match(await within(remote.unlock('a', true).catch((error: unknown) => error), 1000), { code: 'connection' }, 'and a later one rejects')
})

t.test('once the actor has closed its end, the session telling its holder is no warning', async (t) => {
  const session = new FakeSession()
  const { remote, reports } = actor(session)
  await remote.tryLock('a', holder().holder)
  remote.close()
  await t.rejects(remote.tryLock('b', holder().holder), { code: 'connection' })
  session.holders.get('a')?.lost()
  await tick()
  await tick()
  t.same(reports, [])
})

t.test('a loss told before the answer to tryLock means the lock is not held', async (t) => {
  // The session loses the lock between taking it and answering: its news goes out first.
  const session: Locks = {
    async tryLock(_name, holder) {
      holder.lost()
      return true
    },
    async unlock() {},
  }
  const { remote } = actor(session)
  const told = holder()
  t.equal(await remote.tryLock('a', told.holder), false, 'not held')
  t.same(told.told, [], 'nothing to tell a holder that never held it')
})
