// A store's lock session reached from its worker threads: a postgres.js connection cannot
// cross threads, so the threads' actors ask the main thread, over a BroadcastChannel named
// after the store, to take and release their locks on its one LockSession. Answers carry the
// request's id; a lost session is told to every thread, and each tells its own holders.
import { randomUUID } from 'node:crypto'
import { BroadcastChannel } from 'node:worker_threads'
import type { Locks, LockSession } from './lock_session.js'

type Request = { type: 'try' | 'unlock'; id: string; name: string }
type Answer = { type: 'answer'; id: string; acquired: boolean; error: string | null } | { type: 'lost'; names: string[] }

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
    return this.#session.unlock(name)
  }

  close(): void {
    this.#requests.close()
    this.#answers.close()
  }

  async #serve(request: Request): Promise<void> {
    let answer: Answer
    try {
      const acquired =
        request.type === 'try' ? await this.#session.tryLock(request.name, () => this.#answers.postMessage({ type: 'lost', names: [request.name] } satisfies Answer)) : false
      if (request.type === 'unlock') await this.#session.unlock(request.name)
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
  readonly #holders = new Map<string, () => void>()

  constructor(storeId: string) {
    this.#requests = new BroadcastChannel(`${channelName(storeId)}:requests`)
    this.#answers = new BroadcastChannel(`${channelName(storeId)}:answers`)
    this.#answers.onmessage = (event) => this.#hear((event as { data: Answer }).data)
    // A thread waits on its actors, not on this channel.
    ;(this.#answers as unknown as { unref(): void }).unref()
  }

  async tryLock(name: string, onLost: () => void): Promise<boolean> {
    const acquired = await this.#ask('try', name)
    if (acquired) this.#holders.set(name, onLost)
    return acquired
  }

  async unlock(name: string): Promise<void> {
    if (!this.#holders.delete(name)) return
    await this.#ask('unlock', name)
  }

  #ask(type: Request['type'], name: string): Promise<boolean> {
    const id = randomUUID()
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#requests.postMessage({ type, id, name } satisfies Request)
    })
  }

  #hear(answer: Answer): void {
    if (answer.type === 'lost') {
      for (const name of answer.names) {
        const onLost = this.#holders.get(name)
        this.#holders.delete(name)
        onLost?.()
      }
      return
    }
    const pending = this.#pending.get(answer.id)
    if (!pending) return // another thread's, or given up on
    this.#pending.delete(answer.id)
    if (answer.error === null) pending.resolve(answer.acquired)
    else pending.reject(new Error(answer.error))
  }
}
