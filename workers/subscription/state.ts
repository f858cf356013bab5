// The state record of one subscription actor (= commanded's subscription_state.ex) and the
// derived values the FSM needs. Plain data: easy to build in tests.
import type { QueuedEvent, SubscriptionSpec } from '../../lib/subscriptions/messages.js'

export interface SubscriberState {
  id: string
  bufferSize: number
  /** Sent, not yet acknowledged (= commanded subscriber.ex in_flight). */
  inFlight: QueuedEvent[]
}

export type Status = 'standby' | 'loading' | 'running' | 'stopped'

export interface SubscriptionState {
  status: Status
  spec: SubscriptionSpec
  subscribers: SubscriberState[]
  /** The checkpoint last stored (or, for a transient subscription, last reached). */
  checkpoint: number
  /** Highest event number read from storage. */
  readPosition: number
  /** Read, not yet sent; never more than spec.maxSize. */
  queue: QueuedEvent[]
  reading: boolean
  /** Handing the lock over: nothing more is sent or read; the lock goes once in-flight events are acked. */
  handingOver: boolean
  /** Counts hand-overs begun, so that the bound of an earlier one does not cut a later one short. */
  drains: number
  /** Counts reads issued; a result names its read, so one from before a lost lock is known. */
  readId: number
  /** The last read came back short and nothing was notified since: no read until a notify. */
  caughtUp: boolean
  /** A notification arrived while a read was in flight: that read may have missed what it announced. */
  notifiedDuringRead: boolean
  /**
   * The end in $all of the last batch handed off by this process's writer and taken: any
   * write a notification up to here announces committed before it, so it holds nothing new.
   */
  handedOffUpTo: number
  /** Handed-off events that arrived while a read was in flight, taken once it is back. */
  handedOffDuringRead: { events: QueuedEvent[]; last: number } | null
  /** Events acknowledged since the last stored checkpoint. */
  ackedSinceCheckpoint: number
  checkpointTimerArmed: boolean
}

export function initialState(spec: SubscriptionSpec): SubscriptionState {
  return {
    status: 'standby',
    spec,
    subscribers: [],
    checkpoint: 0,
    readPosition: 0,
    queue: [],
    reading: false,
    handingOver: false,
    drains: 0,
    readId: 0,
    caughtUp: false,
    notifiedDuringRead: false,
    handedOffUpTo: 0,
    handedOffDuringRead: null,
    ackedSinceCheckpoint: 0,
    checkpointTimerArmed: false,
  }
}

/**
 * The highest event number below which every event read has been acknowledged: just under
 * the oldest event still queued or in flight, else the read position. Gaps in $all left by
 * hard deletes are stepped over, and an ack out of order never moves it past an unacked event.
 */
export function ackedPosition(state: SubscriptionState): number {
  let oldest = Number.POSITIVE_INFINITY
  const first = state.queue[0]
  if (first) oldest = first.event.eventNumber
  // In-flight lists are not sorted: events taken back from a subscriber that went down are
  // sent again after newer ones.
  for (const subscriber of state.subscribers) {
    for (const queued of subscriber.inFlight) if (queued.event.eventNumber < oldest) oldest = queued.event.eventNumber
  }
  return oldest === Number.POSITIVE_INFINITY ? state.readPosition : oldest - 1
}

export function hasCapacity(subscriber: SubscriberState): boolean {
  return subscriber.inFlight.length < subscriber.bufferSize
}

/** Events in event-number order, for putting in-flight events back in the queue. */
export function mergeByNumber(a: QueuedEvent[], b: QueuedEvent[]): QueuedEvent[] {
  return [...a, ...b].sort((x, y) => x.event.eventNumber - y.event.eventNumber)
}
