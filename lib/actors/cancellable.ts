// A caller's { signal, timeout } around work that can be stopped: the call rejects at once
// (AbortedError, TimeoutError) and the work's own signal fires, so that it cancels what it
// started (a statement in PostgreSQL, a read in a worker).
import { AbortedError, TimeoutError } from '../errors.js'
import type { CallOptions } from '../types.js'

export function cancellable<T>({ signal, timeout }: CallOptions, what: string, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!signal && timeout === undefined) return work(undefined)
  if (signal?.aborted) return Promise.reject(new AbortedError(`${what} was aborted before it started`, { reason: String(signal.reason) }))
  const controller = new AbortController()
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', onAbort)
      if (timer) clearTimeout(timer)
    }
    const stop = (error: Error) => {
      done()
      controller.abort(error)
      reject(error)
    }
    const onAbort = () => stop(new AbortedError(`${what} was aborted`, { reason: String(signal?.reason) }))
    const timer = timeout === undefined ? null : setTimeout(() => stop(new TimeoutError(`${what} took more than ${timeout} ms; it was cancelled`)), timeout)
    signal?.addEventListener('abort', onAbort, { once: true })
    work(controller.signal).then(
      (value) => (done(), resolve(value)),
      (error: unknown) => (done(), reject(error)),
    )
  })
}

/** Aborts `controller` when the caller's signal aborts or its timeout passes; returns what detaches both. */
export function cutShort({ signal, timeout }: CallOptions, controller: AbortController): () => void {
  const cut = () => controller.abort()
  if (signal?.aborted) cut()
  signal?.addEventListener('abort', cut, { once: true })
  const timer = timeout === undefined ? null : setTimeout(cut, timeout)
  return () => {
    signal?.removeEventListener('abort', cut)
    if (timer) clearTimeout(timer)
  }
}
