// Settling a batch whose outcome is in doubt. Outcomes are never guessed: only an error the
// server reported for a statement means the batch was rolled back. When the connection is
// lost after a batch was sent, the writer waits for the server and looks for one thing the
// batch wrote (its witness): found, the batch committed and its callers get their results;
// not found, it is sent again, a few times at most; the server not back in time, the callers
// get a ConnectionError with details.outcome 'unknown'.
import { setTimeout as sleep } from 'node:timers/promises'
import { withTimeout } from '../actors/timeout.js'
import { ConnectionError, type EventStoreError } from '../errors.js'
import type { Report } from '../reports.js'
import type { Witness } from '../storage/append.js'
import type { WritePlan } from '../storage/write_plan.js'
import { type Envelope, settleAll } from './queue.js'

/** What was last sent for a batch, to settle it should the connection be lost. */
export interface Attempt {
  /** Null until something was sent for writing. */
  witness: Witness | null
  /** Each request's outcome, should the batch have committed. */
  outcomes: (EventStoreError | null)[]
}

/** Times a batch found not committed after a lost connection is sent again before its callers get the error. */
export const MAX_RETRIES = 2
/** Pause between attempts to reach the server to settle an unknown outcome. */
const OUTCOME_POLL_MS = 200

/** Notes what a write will store first, to look for it should the connection be lost. */
export function recordWrite(attempt: Attempt, write: WritePlan, outcomes: (EventStoreError | null)[]): void {
  const eventId = write.events.eventIds[0]
  const linked = write.links.streams[0]
  attempt.witness =
    eventId !== undefined
      ? { type: 'event', eventId }
      : { type: 'link', streamUuid: linked as string, position: write.links.positions[0] as number }
  attempt.outcomes = outcomes
}

/** Notes a deletion about to be sent. */
export function recordDeletion(attempt: Attempt, streamUuid: string): void {
  attempt.witness = { type: 'deleted', streamUuid }
  attempt.outcomes = [null]
}

/** What settling a lost batch comes to. */
export type Settlement =
  /** Not committed, and the connection is not to blame: handle it as rolled back. */
  | 'rolled back'
  /** Its callers are settled. */
  | 'settled'
  /** Not committed: handed to sendAgain. */
  | 'sent again'

export interface SettlingContext {
  /** Whether the witness is stored (lib/storage/append.ts isWritten). */
  isWritten: (witness: Witness) => Promise<boolean>
  /** How long the server is tried, in ms. */
  outcomeTimeout: number
  /** stop() was cut short: nothing is looked into or sent again. */
  abandoned: () => boolean
  report: Report
  /** Hears that the batch may have been written without being handed to onCommitted. */
  onOutcomeUnknown: () => void
  /** Puts a batch found not committed back at the head of the queue, before anything else is taken. */
  sendAgain: (batch: Envelope[]) => void
}

/**
 * Settles a batch that failed without the server saying it rolled back. `lost`: the failure
 * was the connection's; with no witness yet, nothing was sent for writing.
 */
export async function settleLost(batch: Envelope[], attempt: Attempt, error: unknown, lost: boolean, context: SettlingContext): Promise<Settlement> {
  const written = attempt.witness === null ? false : await findWitness(attempt.witness, context)
  // Subscriptions read what may have been written: it was not handed to them.
  if (written !== false) context.onOutcomeUnknown()
  if (written === false && !lost) return 'rolled back'
  const abandoned = context.abandoned()
  if (written === true) {
    context.report('warning', 'writer', 'the connection was lost as a batch committed; it had committed', error, { requests: batch.length })
    settleAll(batch, attempt.outcomes)
    return 'settled'
  }
  if (written === false && !abandoned && batch.every((envelope) => envelope.retries < MAX_RETRIES)) {
    context.report('warning', 'writer', 'the connection was lost before a batch committed; sending it again', error, { requests: batch.length })
    context.sendAgain(batch)
    return 'sent again'
  }
  const outcome = written === false ? 'not_committed' : 'unknown'
  const failure = new ConnectionError(
    abandoned
      ? `the event store was stopped while this write was in flight; ${outcome === 'unknown' ? 'whether it committed is not known' : 'it was not committed'}`
      : outcome === 'unknown'
        ? `the connection was lost as the write committed, and PostgreSQL could not be reached within ${context.outcomeTimeout} ms to find out whether it did`
        : `the write was not committed: the connection was lost ${MAX_RETRIES + 1} times`,
    { outcome },
    { cause: error },
  )
  context.report(outcome === 'unknown' ? 'error' : 'warning', 'writer', failure.message, error, { requests: batch.length, outcome })
  for (const envelope of batch) envelope.reject(failure)
  return 'settled'
}

/** Whether the witness is stored; null when the server cannot be asked within outcomeTimeout. */
async function findWitness(witness: Witness, context: SettlingContext): Promise<boolean | null> {
  const deadline = Date.now() + context.outcomeTimeout
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0 || context.abandoned()) return null
    try {
      return await withTimeout(context.isWritten(witness), left, () => new Error('no answer'))
    } catch {
      await sleep(Math.min(OUTCOME_POLL_MS, Math.max(0, deadline - Date.now())))
    }
  }
}
