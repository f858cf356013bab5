// Calls with a reply between threads, over comlink, with what comlink lacks: a timeout,
// cancellation by AbortSignal that reaches the callee (a read then cancels its statement),
// and the rejection of every call pending when the port closes or the other thread dies
// (comlink's own would wait for ever). Errors cross with their codes (lib/errors.ts toWire).
// A port may carry calls both ways, served and called on each end: comlink's serving side
// ignores answers, and its calling side requests it did not send.
import type { MessagePort, Transferable } from 'node:worker_threads'
import * as Comlink from 'comlink'
import { cancellable } from './cancellable.js'
import { ConnectionError, type EventStoreError, fromWire, isWireError, toWire } from '../errors.js'
import type { CallOptions } from '../types.js'

/** An actor's callable interface, as its callers see it (each actor's messages.ts declares one). */
type Methods<T> = { [K in keyof T]: (...args: never[]) => unknown }

/**
 * How the actor implements it: each method also gets the call's signal, aborted when the
 * caller cancels; undefined for a call that cannot be cancelled.
 */
export type Served<T extends Methods<T>> = {
  [K in keyof T]: (...args: [...Parameters<T[K]>, AbortSignal | undefined]) => ReturnType<T[K]> | Promise<Awaited<ReturnType<T[K]>>>
}

/** What crosses the port as comlink calls. `id` names a call that may be cancelled; 0: one that cannot be. */
interface Wire {
  call(method: string, args: unknown[], id: number): unknown
  cancel(id: number): void
}

/** Serves `actor`'s methods on `port` until it closes. */
export function serve<T extends Methods<T>>(port: MessagePort, actor: Served<T>): void {
  // Calls in flight that may be cancelled, so that a cancel can stop what they started.
  const running = new Map<number, AbortController>()
  const methods = actor as unknown as Record<string, (...args: unknown[]) => unknown>
  const wire: Wire = {
    async call(method, args, id) {
      const controller = id === 0 ? null : new AbortController()
      if (controller) running.set(id, controller)
      try {
        return await (methods[method] as (...args: unknown[]) => unknown)(...args, controller?.signal)
      } catch (error) {
        // Thrown as a plain value, comlink hands it over whole; an Error would keep only its message.
        throw toWire(error)
      } finally {
        if (controller) running.delete(id)
      }
    },
    cancel(id) {
      running.get(id)?.abort()
    },
  }
  Comlink.expose(wire, port as unknown as Comlink.Endpoint)
}

export interface Call extends CallOptions {
  /** Moved to the actor instead of copied (a port it is to talk on). */
  transfer?: Transferable[]
}

/** The calling side of an actor's port: `call` runs one of its methods there. */
export class Caller<T extends Methods<T>> {
  readonly #port: MessagePort
  /** Names the actor in errors: `${what} was aborted`. */
  readonly #what: string
  readonly #call: (method: string, args: unknown[], id: number) => Promise<unknown>
  readonly #cancel: (id: number) => Promise<void>
  /** The rejecters of the calls awaiting their reply. */
  readonly #pending = new Set<(error: Error) => void>()
  #closed: EventStoreError | null = null
  #nextId = 1

  constructor(port: MessagePort, what: string) {
    this.#port = port
    this.#what = what
    const remote = Comlink.wrap<Wire>(port as unknown as Comlink.Endpoint)
    // Held once: comlink makes a proxy at each property access.
    this.#call = remote.call as never
    this.#cancel = remote.cancel as never
    port.once('close', () => this.close(new ConnectionError(`${what} failed: its actor stopped or its thread ended`)))
  }

  /** Calls awaiting their reply. */
  get pending(): number {
    return this.#pending.size
  }

  get closed(): boolean {
    return this.#closed !== null
  }

  /**
   * Runs `method` on the actor. Aborted by `signal` or past `timeout` ms, it rejects at once
   * (AbortedError, TimeoutError) and the actor's signal for the call aborts.
   */
  call<K extends keyof T & string>(method: K, args: Parameters<T[K]>, options: Call = {}): Promise<Awaited<ReturnType<T[K]>>> {
    const { signal, timeout, transfer } = options
    const sent = transfer ? Comlink.transfer(args, transfer as never) : args
    if (!signal && timeout === undefined) return this.#send(method, sent, 0)
    return cancellable({ signal, timeout }, this.#what, (cut) => {
      const id = this.#nextId++
      // A cancel that cannot be delivered means the port closed: close() rejects the call itself.
      cut?.addEventListener('abort', () => void this.#cancel(id).catch(() => {}), { once: true })
      return this.#send(method, sent, id)
    })
  }

  #send<R>(method: string, args: unknown[], id: number): Promise<R> {
    if (this.#closed) return Promise.reject(this.#closed)
    return new Promise<R>((resolve, reject) => {
      this.#pending.add(reject)
      this.#call(method, args, id).then(
        (value) => {
          if (this.#pending.delete(reject)) resolve(value as R)
        },
        (error: unknown) => {
          if (this.#pending.delete(reject)) reject(isWireError(error) ? fromWire(error) : error)
        },
      )
    })
  }

  /** Rejects every pending call and each later one with `error`, and closes the port. */
  close(error: EventStoreError): void {
    if (this.#closed) return
    this.#closed = error
    for (const reject of this.#pending) reject(error)
    this.#pending.clear()
    this.#port.close()
  }
}
