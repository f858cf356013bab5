// A store's lock session reached from its worker threads: a postgres.js connection cannot
// cross threads, so the threads' actors ask the main thread, over a BroadcastChannel named
// after the store, to take and release their locks on its one LockSession. Answers carry the
// request's id; a lost session and a hand-over are told to every thread, and each tells its
// own holders.
import { randomUUID } from 'node:crypto'
import { BroadcastChannel } from 'node:worker_threads'
import type { LockHolder, Locks, LockSession } from './lock_session.js'

type Request = { type: 'try'; id: string; name: string } | { type: 'unlock'; id: string; name: string; leave: boolean }
type Answer = { type: 'answer'; id: string; acquired: boolean; error: string | null } | { type: 'lost' | 'hand_over'; names: string[] }

const channelName = (storeId: string): string => `pg-eventstore:locks:${storeId}`

/** The main thread's side: serves the threads' requests on `session` until closed. */
export class LockHost {
  readonly #requests: BroadcastChannel
  readonly #answers: BroadcastChannel
  readonly #session: LockSession

  constructor(storeId: string, session: LockSession) {
    this.#session = session
    this.#requests = new BroadcastChannel(`${channelName(storeId)}:requests`)
    this.#answers = new BroadcastChannel(`${channelName(storeId)}:answers`)
    this.#requests.onmessage = (event) => void this.#serve((event as { data: Request }).data)
    // Only the threads' messages keep nothing alive: the store's stop() closes the host.
    ;(this.#requests as unknown as { unref(): void }).unref()
  }

  /**
   * Releases a lock whose holder is gone without releasing it (its actor's thread died):
   * its session is the store's, which outlives the thread.
   */
  release(name: string): Promise<void> {
    return this.#session.unlock(name, true)
  }

  close(): void {
    this.#requests.close()
    this.#answers.close()
  }

  async #serve(request: Request): Promise<void> {
    let answer: Answer
    try {
      const tell = (type: 'lost' | 'hand_over') => () => this.#answers.postMessage({ type, names: [request.name] } satisfies Answer)
      const acquired = request.type === 'try' ? await this.#session.tryLock(request.name, { lost: tell('lost'), handOver: tell('hand_over') }) : false
      if (request.type === 'unlock') await this.#session.unlock(request.name, request.leave)
      answer = { type: 'answer', id: request.id, acquired, error: null }
    } catch (error) {
      answer = { type: 'answer', id: request.id, acquired: false, error: error instanceof Error ? error.message : String(error) }
    }
    this.#answers.postMessage(answer)
  }
}

/** A worker thread's side: the Locks its actors use, served by the store's LockHost. */
export class RemoteLocks implements Locks {
  readonly #requests: BroadcastChannel
  readonly #answers: BroadcastChannel
  readonly #pending = new Map<string, { resolve: (acquired: boolean) => void; reject: (error: Error) => void }>()
  readonly #holders = new Map<string, LockHolder>()

  constructor(storeId: string) {
    this.#requests = new BroadcastChannel(`${channelName(storeId)}:requests`)
    this.#answers = new BroadcastChannel(`${channelName(storeId)}:answers`)
    this.#answers.onmessage = (event) => this.#hear((event as { data: Answer }).data)
    // A thread waits on its actors, not on this channel.
    ;(this.#answers as unknown as { unref(): void }).unref()
  }

  async tryLock(name: string, holder: LockHolder): Promise<boolean> {
    const acquired = await this.#ask({ type: 'try', id: randomUUID(), name })
    if (acquired) this.#holders.set(name, holder)
    return acquired
  }

  async unlock(name: string, leave = false): Promise<void> {
    // Leaving is told even when nothing is held: an attempt under way may take the lock.
    if (!this.#holders.delete(name) && !leave) return
    await this.#ask({ type: 'unlock', id: randomUUID(), name, leave })
  }

  #ask(request: Request): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject })
      this.#requests.postMessage(request)
    })
  }

  #hear(answer: Answer): void {
    if (answer.type === 'lost') {
      for (const name of answer.names) {
        const holder = this.#holders.get(name)
        this.#holders.delete(name)
        holder?.lost()
      }
      return
    }
    if (answer.type === 'hand_over') {
      for (const name of answer.names) this.#holders.get(name)?.handOver()
      return
    }
    if (answer.type !== 'answer') return
    const pending = this.#pending.get(answer.id)
    if (!pending) return // another thread's, or given up on
    this.#pending.delete(answer.id)
    if (answer.error === null) pending.resolve(answer.acquired)
    else pending.reject(new Error(answer.error))
  }
}
