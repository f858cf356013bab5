// Pure transitions of a subscription actor (= commanded's subscription_fsm.ex):
// transition(state, message) → { state, effects }. It never awaits; process.ts performs
// the effects, and whatever they produce comes back as a message.
import { HAND_OVER_COOLDOWN_MS, STANDBY_RETRY_MS } from '../../lib/locks/timing.js'
import type { WireError } from '../../lib/errors.js'
import type { QueuedEvent, EndpointMessage, SubscriptionMessage } from '../../lib/subscriptions/messages.js'
import { ackedPosition, hasCapacity, mergeByNumber, type SubscriberState, type SubscriptionState } from './state.js'

export type Effect =
  | { type: 'send'; subscriberId: string; message: EndpointMessage }
  | { type: 'acquire_lock' }
  /** `leave`: the store no longer wants the subscription (it stops). */
  | { type: 'release_lock'; leave: boolean }
  | { type: 'load_checkpoint' }
  | { type: 'read'; readId: number; from: number; count: number }
  | { type: 'save_checkpoint'; position: number }
  | { type: 'after'; ms: number; message: SubscriptionMessage }
  | { type: 'stop'; reason: 'unsubscribed' | 'error'; error: WireError | null }

export interface Transition {
  state: SubscriptionState
  effects: Effect[]
}

/** How long to wait before reading again after a failed read. */
export const READ_RETRY_MS = 1000
/** How long a hand-over waits for in-flight events to be acked before it unlocks anyway. */
export const HAND_OVER_DRAIN_MS = 5000

/** The first effects of a new actor: take the lock (a transient subscription has none). */
export function start(state: SubscriptionState): Transition {
  return { state, effects: [state.spec.transient ? { type: 'load_checkpoint' } : { type: 'acquire_lock' }] }
}

export function transition(state: SubscriptionState, message: SubscriptionMessage): Transition {
  if (state.status === 'stopped') return { state, effects: [] }
  switch (message.type) {
    case 'connect': {
      const subscriber: SubscriberState = { id: message.subscriberId, bufferSize: message.bufferSize, inFlight: [] }
      const next = { ...state, subscribers: [...state.subscribers, subscriber] }
      if (state.status !== 'running') return { state: next, effects: [] }
      return settle(next, [{ type: 'send', subscriberId: subscriber.id, message: { type: 'subscribed' } }])
    }
    case 'lock_result':
      if (state.status !== 'standby') return { state, effects: [] }
      if (!message.acquired) return { state, effects: [{ type: 'after', ms: STANDBY_RETRY_MS, message: { type: 'retry_lock' } }] }
      return { state: { ...state, status: 'loading' }, effects: [{ type: 'load_checkpoint' }] }
    case 'retry_lock':
      return { state, effects: state.status === 'standby' ? [{ type: 'acquire_lock' }] : [] }
    case 'checkpoint_loaded': {
      if (state.status !== 'loading' && !(state.spec.transient && state.status === 'standby')) return { state, effects: [] }
      const next: SubscriptionState = {
        ...state,
        status: 'running',
        checkpoint: message.checkpoint,
        readPosition: message.checkpoint,
        queue: [],
        caughtUp: false,
        handedOffUpTo: 0,
        handedOffDuringRead: null,
        ackedSinceCheckpoint: 0,
      }
      // A hand-over asked while loading goes ahead now, before anything is read or sent.
      if (state.handingOver) return handOver(next)
      const greetings: Effect[] = state.subscribers.map((s) => ({ type: 'send', subscriberId: s.id, message: { type: 'subscribed' } }))
      return settle(next, greetings)
    }
    case 'lock_lost': {
      // On standby it holds no lock (say, after handing it over): nothing to lose.
      if (state.status === 'standby') return { state, effects: [] }
      // Another process may take over: what is queued and in flight is delivered again from
      // the stored checkpoint (at least once).
      return { state: toStandby(state), effects: [{ type: 'after', ms: STANDBY_RETRY_MS, message: { type: 'retry_lock' } }] }
    }
    case 'hand_over': {
      if (state.status === 'loading') return { state: { ...state, handingOver: true }, effects: [] }
      if (state.status !== 'running' || state.handingOver) return { state, effects: [] }
      const draining = { ...state, handingOver: true, drains: state.drains + 1 }
      if (!hasInFlight(draining)) return handOver(draining)
      return { state: draining, effects: [{ type: 'after', ms: HAND_OVER_DRAIN_MS, message: { type: 'hand_over_due', drain: draining.drains } }] }
    }
    case 'hand_over_due':
      return state.status === 'running' && state.handingOver && message.drain === state.drains ? handOver(state) : { state, effects: [] }
    case 'notify': {
      if (state.status !== 'running') return { state, effects: [] }
      const known = state.spec.streamId === '$all' ? state.readPosition : state.handedOffUpTo
      if (message.lastPosition !== null && message.lastPosition <= known) return { state, effects: [] }
      return settle({ ...state, caughtUp: false, notifiedDuringRead: state.reading }, [])
    }
    case 'committed': {
      if (state.status !== 'running') return { state, effects: [] }
      const last = message.events.at(-1)
      if (!last || last.event.eventNumber <= state.readPosition) return { state, effects: [] } // read already
      // The read in flight may return some of them: hold them until it is back.
      if (state.reading) return { state: holdDuringRead(state, message.events, message.last), effects: [] }
      return takeHandOff(state, message.events, message.last)
    }
    case 'read_done': {
      // A read issued before the lock was lost began past the checkpoint now reloaded: taking
      // it would skip what lies between.
      if (!isAwaited(state, message.readId)) return { state, effects: [] }
      const fresh = message.events.filter((e) => e.event.eventNumber > state.readPosition)
      const last = fresh.at(-1)
      const readTo = Math.max(last ? last.event.eventNumber : state.readPosition, message.scanned ?? 0)
      // Positions a filter passed over count as acknowledged (as selector-rejected events do),
      // so the checkpoint moves past them.
      const passedOver = message.scanned === undefined ? 0 : Math.max(0, readTo - state.readPosition - fresh.length)
      const next: SubscriptionState = {
        ...state,
        reading: false,
        queue: [...state.queue, ...fresh],
        readPosition: readTo,
        ackedSinceCheckpoint: state.ackedSinceCheckpoint + passedOver,
        // A short page means caught up, unless a notification came in meanwhile: the read's
        // snapshot may predate what it announced, so read once more.
        caughtUp: message.events.length < message.requested && !state.notifiedDuringRead,
        notifiedDuringRead: false,
        handedOffDuringRead: null,
      }
      const held = state.handedOffDuringRead
      if (!held) return settle(next, [])
      const unread = held.events.filter((e) => e.event.eventNumber > next.readPosition)
      if (unread.length === 0) return settle({ ...next, handedOffUpTo: Math.max(next.handedOffUpTo, held.last) }, [])
      return takeHandOff(next, unread, held.last)
    }
    case 'read_failed':
      if (!isAwaited(state, message.readId)) return { state, effects: [] }
      return {
        state: { ...state, reading: false },
        effects: [{ type: 'after', ms: READ_RETRY_MS, message: { type: 'notify', lastPosition: null } }],
      }
    case 'ack': {
      const subscriber = state.subscribers.find((s) => s.id === message.subscriberId)
      if (!subscriber) return { state, effects: [] }
      const acked = new Set(message.eventNumbers)
      const remaining = subscriber.inFlight.filter((e) => !acked.has(e.event.eventNumber))
      if (remaining.length === subscriber.inFlight.length) return { state, effects: [] }
      const next = {
        ...state,
        subscribers: state.subscribers.map((s) => (s === subscriber ? { ...s, inFlight: remaining } : s)),
        ackedSinceCheckpoint: state.ackedSinceCheckpoint + subscriber.inFlight.length - remaining.length,
      }
      return settleOrHandOver(next)
    }
    case 'subscriber_down': {
      const subscriber = state.subscribers.find((s) => s.id === message.subscriberId)
      if (!subscriber) return { state, effects: [] }
      // Its unacknowledged events go back to the queue for the others (= commanded's
      // handling of a subscriber's :DOWN): they were not acked, so they are not counted.
      const next = {
        ...state,
        subscribers: state.subscribers.filter((s) => s !== subscriber),
        queue: mergeByNumber(subscriber.inFlight, state.queue),
      }
      if (next.subscribers.length === 0) return stop(next, message.error ? 'error' : 'unsubscribed', message.error)
      return settleOrHandOver(next)
    }
    case 'checkpoint_timer': {
      const next = { ...state, checkpointTimerArmed: false }
      return next.status === 'running' ? withCheckpoint(next, [], true) : { state: next, effects: [] }
    }
    case 'unsubscribe':
      return stop(state, 'unsubscribed', null)
  }
}

/**
 * Takes events handed off by this process's writer when they follow on exactly from what the
 * subscription has read (event numbers leave no room for anything between) and fit in the
 * queue; otherwise they count as a notification, and it reads.
 */
function takeHandOff(state: SubscriptionState, events: QueuedEvent[], last: number): Transition {
  const first = events[0]
  const end = events.at(-1)
  const follows = first !== undefined && first.event.eventNumber === state.readPosition + 1 && state.queue.length + events.length <= state.spec.maxSize
  if (!follows || !end) return transition(state, { type: 'notify', lastPosition: last })
  return settle({ ...state, queue: [...state.queue, ...events], readPosition: end.event.eventNumber, handedOffUpTo: Math.max(state.handedOffUpTo, last) }, [])
}

/**
 * Keeps handed-off events that arrive during a read; a batch not following on, or one that
 * would hold more than maxSize with the queue, is dropped and read from storage instead.
 */
function holdDuringRead(state: SubscriptionState, events: QueuedEvent[], last: number): SubscriptionState {
  const held = state.handedOffDuringRead
  const heldEvents = held?.events ?? []
  const heldEnd = held ? (heldEvents.at(-1)?.event.eventNumber ?? Number.NaN) : null
  const follows = heldEnd === null || events[0]?.event.eventNumber === heldEnd + 1
  if (follows && state.queue.length + heldEvents.length + events.length <= state.spec.maxSize) {
    return { ...state, handedOffDuringRead: { events: [...heldEvents, ...events], last } }
  }
  return { ...state, handedOffDuringRead: null, notifiedDuringRead: true }
}

/**
 * Hands the lock over once nothing is in flight (or the drain took too long): stores the
 * checkpoint, unlocks, and waits on standby long enough for the taker to go first. The taker
 * starts from that checkpoint, so order holds across the hand-over.
 */
function handOver(state: SubscriptionState): Transition {
  const { state: saved, effects } = withCheckpoint(state, [], true)
  return {
    state: toStandby(saved),
    effects: [...effects, { type: 'release_lock', leave: false }, { type: 'after', ms: HAND_OVER_COOLDOWN_MS, message: { type: 'retry_lock' } }],
  }
}

/** After an ack or a subscriber gone: a hand-over waiting for in-flight events goes once none are left. */
function settleOrHandOver(state: SubscriptionState): Transition {
  return state.handingOver && !hasInFlight(state) ? handOver(state) : settle(state, [])
}

/** Without the lock: nothing queued, in flight or being read is kept. */
function toStandby(state: SubscriptionState): SubscriptionState {
  return {
    ...state,
    status: 'standby',
    handingOver: false,
    queue: [],
    subscribers: state.subscribers.map((s) => ({ ...s, inFlight: [] })),
    reading: false,
    handedOffDuringRead: null,
  }
}

function hasInFlight(state: SubscriptionState): boolean {
  return state.subscribers.some((s) => s.inFlight.length > 0)
}

/** Stops: stores the checkpoint reached, tells every subscriber, releases the lock. */
function stop(state: SubscriptionState, reason: 'unsubscribed' | 'error', error: WireError | null): Transition {
  const { state: saved, effects } = state.status === 'running' ? withCheckpoint(state, [], true) : { state, effects: [] as Effect[] }
  const farewells: Effect[] = saved.subscribers.map((s) => ({ type: 'send', subscriberId: s.id, message: { type: 'closed', reason, error } }))
  const release: Effect[] = saved.spec.transient ? [] : [{ type: 'release_lock', leave: true }]
  return { state: { ...saved, status: 'stopped' }, effects: [...effects, ...farewells, ...release, { type: 'stop', reason, error }] }
}

/** After any change while running: dispatch what can be sent, checkpoint, read more. */
function settle(state: SubscriptionState, effects: Effect[]): Transition {
  if (state.status !== 'running') return { state, effects }
  const dispatched = dispatch(state)
  const checkpointed = withCheckpoint(dispatched.state, [...effects, ...dispatched.effects], false)
  return withRead(checkpointed.state, checkpointed.effects)
}

/**
 * Sends queued events to subscribers with room in their buffer (= commanded's
 * notify_subscribers): the least loaded first; with partitions, a key's events go to the
 * subscriber already holding that key, in order. Consecutive events of one stream and one
 * correlation id for the same subscriber travel as one batch.
 */
function dispatch(state: SubscriptionState): Transition {
  // Nothing to send, or nobody to take it: leave the queue as it is (this runs on every ack).
  if (state.queue.length === 0 || state.handingOver || !state.subscribers.some(hasCapacity)) return { state, effects: [] }
  const subscribers = state.subscribers.map((s) => ({ ...s, inFlight: [...s.inFlight] }))
  const batches: { subscriberId: string; events: QueuedEvent[] }[] = []
  const lastBatchOf = new Map<string, { subscriberId: string; events: QueuedEvent[] }>()
  const kept: QueuedEvent[] = []
  const partitioned = state.spec.partitioned
  for (let i = 0; i < state.queue.length; i += 1) {
    const queued = state.queue[i] as QueuedEvent
    const target = chooseSubscriber(subscribers, queued, partitioned)
    if (!target) {
      kept.push(queued)
      if (!partitioned && !subscribers.some(hasCapacity)) {
        kept.push(...state.queue.slice(i + 1))
        break
      }
      continue
    }
    target.inFlight.push(queued)
    const open = lastBatchOf.get(target.id)
    const previous = open?.events.at(-1)?.event
    if (open && open === batches.at(-1) && previous?.streamId === queued.event.streamId && previous.correlationId === queued.event.correlationId) {
      open.events.push(queued)
    } else {
      const batch = { subscriberId: target.id, events: [queued] }
      batches.push(batch)
      lastBatchOf.set(target.id, batch)
    }
  }
  // One message per subscriber carrying its batches in order: fewer hops between threads.
  const perSubscriber = new Map<string, QueuedEvent[][]>()
  for (const batch of batches) perSubscriber.set(batch.subscriberId, [...(perSubscriber.get(batch.subscriberId) ?? []), batch.events])
  const effects: Effect[] = [...perSubscriber].map(([subscriberId, list]) => ({
    type: 'send',
    subscriberId,
    message: { type: 'events', batches: list.map((batch) => batch.map((q) => q.event)) },
  }))
  return { state: { ...state, subscribers, queue: kept }, effects }
}

function chooseSubscriber(subscribers: SubscriberState[], queued: QueuedEvent, partitioned: boolean): SubscriberState | null {
  if (partitioned && queued.partitionKey !== null) {
    const owner = subscribers.find((s) => s.inFlight.some((e) => e.partitionKey === queued.partitionKey))
    if (owner) return hasCapacity(owner) ? owner : null
  }
  let best: SubscriberState | null = null
  for (const subscriber of subscribers) {
    if (hasCapacity(subscriber) && (!best || subscriber.inFlight.length < best.inFlight.length)) best = subscriber
  }
  return best
}

/** Stores the acknowledged position when the threshold is reached (or `force`), else arms the timer. */
function withCheckpoint(state: SubscriptionState, effects: Effect[], force: boolean): Transition {
  const position = ackedPosition(state)
  if (position <= state.checkpoint) return { state, effects }
  const { checkpointThreshold, checkpointAfter, transient } = state.spec
  if (force || state.ackedSinceCheckpoint >= checkpointThreshold) {
    const save: Effect[] = transient ? [] : [{ type: 'save_checkpoint', position }]
    return { state: { ...state, checkpoint: position, ackedSinceCheckpoint: 0 }, effects: [...effects, ...save] }
  }
  if (checkpointAfter > 0 && !state.checkpointTimerArmed) {
    return {
      state: { ...state, checkpointTimerArmed: true },
      effects: [...effects, { type: 'after', ms: checkpointAfter, message: { type: 'checkpoint_timer' } }],
    }
  }
  return { state, effects }
}

/** Whether a read's result is the one the actor waits for (not one from before a lost lock). */
function isAwaited(state: SubscriptionState, readId: number): boolean {
  return state.status === 'running' && state.reading && readId === state.readId
}

/** Reads the next page once the queue has room for half of it (memory stays under maxSize). */
function withRead(state: SubscriptionState, effects: Effect[]): Transition {
  const room = state.spec.maxSize - state.queue.length
  if (state.reading || state.caughtUp || state.handingOver || room < Math.ceil(state.spec.maxSize / 2)) return { state, effects }
  const readId = state.readId + 1
  return { state: { ...state, reading: true, readId }, effects: [...effects, { type: 'read', readId, from: state.readPosition + 1, count: room }] }
}
