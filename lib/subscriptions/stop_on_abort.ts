// A subscription tied to an AbortSignal: it stops when the signal aborts; a failed stop is a warning.
import type { Report } from '../reports.js'
import type { Subscription } from './handle.js'

/** Unsubscribes when `signal` aborts, for as long as the subscription runs. */
export function stopOnAbort(signal: AbortSignal, subscription: Subscription, report: Report): void {
  const stop = () =>
    void subscription.unsubscribe().catch((error: unknown) =>
      report('warning', 'subscription', `subscription "${subscription.name}": stopping it when its signal aborted failed`, error, { name: subscription.name }),
    )
  if (signal.aborted) return stop()
  signal.addEventListener('abort', stop, { once: true })
  void subscription.closed.then(() => signal.removeEventListener('abort', stop))
}
