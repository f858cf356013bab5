// The subscription actor's shell (= commanded's subscription.ex): a mailbox loop that feeds
// each message to the pure FSM and performs the effects it returns, one message at a time.
// Slow work (reads, taking the lock, loading the checkpoint) runs in the background and
// reports back as a message, so acks keep flowing while a catch-up read is under way.
import type { MessagePort } from 'node:worker_threads'
import { type Caller, serve, type Served } from '../../lib/actors/calls.js'
import { ConnectionError, toWire, type WireError } from '../../lib/errors.js'
import { Mailbox } from '../../lib/actors/mailbox.js'
import type { Locks } from '../../lib/locks/lock_session.js'
import { toEventStoreError } from '../../lib/storage/pg_errors.js'
import { parsePage, runRead } from '../../lib/storage/read.js'
import { type HandOff, handedOffEvents } from '../../lib/subscriptions/hand_off.js'
import { createSubscription, saveCheckpoint, streamHead } from '../../lib/storage/subscriptions.js'
import type {
  QueuedEvent,
  SubscriberReply,
  SubscriptionCallbacks,
  SubscriptionControl,
  SubscriptionMessage,
  SubscriptionOutcome,
  SubscriptionSpec,
} from '../../lib/subscriptions/messages.js'
import { withTimeout } from '../../lib/actors/timeout.js'
import { column, report, schema, sql } from '../context.js'
import { type Effect, start, transition } from './fsm.js'
import { ackedPosition, initialState } from './state.js'

/** A checkpoint write not answered by then counts as failed (the next one carries it). */
const CHECKPOINT_TIMEOUT_MS = 5000
/**
 * A read, a lock attempt or a checkpoint load not answered by then counts as failed and is
 * tried again: after its connection was killed, a statement can wait for ever in the driver,
 * and the actor with it.
 */
const BACKGROUND_TIMEOUT_MS = 10_000

export async function runSubscription(
  spec: SubscriptionSpec,
  control: MessagePort,
  callbacks: Caller<SubscriptionCallbacks> | null,
  /** Events the main thread's writer committed (lib/subscriptions/hand_off.ts). */
  feed: MessagePort,
  /** The store's lock session, on the main thread. */
  locks: Locks,
): Promise<SubscriptionOutcome> {
  const mailbox = new Mailbox<SubscriptionMessage>()
  const ports = new Map<string, MessagePort>()
  const timers = new Set<NodeJS.Timeout>()
  const lockName = `${schema}:${spec.streamId}:${spec.name}`
  let finished: (outcome: SubscriptionOutcome) => void = () => {}
  const done = new Promise<SubscriptionOutcome>((resolve) => {
    finished = resolve
  })

  let current = start(initialState(spec))
  /** Subscribers whose connect call waits until the mailbox has taken them in. */
  const joining = new Map<string, { joined: () => void; refused: (error: Error) => void }>()
  const stopping = () => new ConnectionError(`subscription "${spec.name}" stopped before the subscriber joined`, { actorStopping: true })
  const api: Served<SubscriptionControl> = {
    connect(subscriberId, port, bufferSize) {
      if (current.state.status === 'stopped') {
        port.close()
        throw stopping()
      }
      ports.set(subscriberId, port)
      port.on('message', (reply: SubscriberReply) => {
        if (reply.type === 'ack') mailbox.post({ type: 'ack', subscriberId, eventNumbers: reply.eventNumbers })
        else mailbox.post({ type: 'subscriber_down', subscriberId, error: reply.type === 'failed' ? reply.error : null })
      })
      port.on('close', () => mailbox.post({ type: 'subscriber_down', subscriberId, error: null }))
      mailbox.post({ type: 'connect', subscriberId, bufferSize })
      return new Promise<void>((joined, refused) => joining.set(subscriberId, { joined, refused }))
    },
    notify(lastPosition) {
      mailbox.post({ type: 'notify', lastPosition })
    },
    unsubscribe() {
      mailbox.post({ type: 'unsubscribe' })
    },
    status() {
      const { state } = current
      return {
        status: state.status,
        caughtUp: state.caughtUp,
        acknowledged: ackedPosition(state),
        storedCheckpoint: checkpoints.stored ?? state.checkpoint,
        storedAt: checkpoints.storedAt,
      }
    },
  }
  serve<SubscriptionControl>(control, api)
  feed.on('message', (handOff: HandOff) => {
    const events = handedOffEvents(handOff, spec.streamId, column).map((event) => ({ event, partitionKey: null }))
    mailbox.post({ type: 'committed', events, last: handOff.last })
  })

  const background = (work: () => Promise<SubscriptionMessage>, onError: (error: WireError) => SubscriptionMessage) => {
    withTimeout(work(), BACKGROUND_TIMEOUT_MS, () => new Error(`no answer within ${BACKGROUND_TIMEOUT_MS} ms`)).then(
      (message) => mailbox.post(message),
      (error: unknown) => mailbox.post(onError(toWire(toEventStoreError(error, schema)))),
    )
  }

  const readPage = async (readId: number, from: number, count: number): Promise<SubscriptionMessage> => {
    const task =
      spec.streamId === '$all'
        ? ({ op: 'read_all', start: from, count, direction: 'forward', filter: spec.filter } as const)
        : ({ op: 'read_stream', streamId: spec.streamId, start: from, count, direction: 'forward' } as const)
    const result = await runRead(sql, task, column)
    // A stream that does not exist yet reads as empty: the subscription waits for it.
    // Events stay as stored: the subscriber's thread decodes them (lib/serializer.ts decodeEvents).
    const events = result.status === 'found' || result.status === 'filtered' ? parsePage(result.events) : []
    const keys = callbacks && events.length > 0 ? await callbacks.call('partitionKeys', [events]) : null
    const queued: QueuedEvent[] = events.map((event, i) => ({ event, partitionKey: keys?.[i] ?? null }))
    // A short filtered page looked at everything up to the head it read: nothing there matched.
    const scanned = result.status === 'filtered' && events.length < count ? result.head : undefined
    return { type: 'read_done', readId, events: queued, requested: count, scanned }
  }

  const loadCheckpoint = async (): Promise<SubscriptionMessage> => {
    const startFrom = spec.startFrom === -1 ? await streamHead(sql, spec.streamId) : spec.startFrom
    if (spec.transient) return { type: 'checkpoint_loaded', checkpoint: startFrom }
    return { type: 'checkpoint_loaded', checkpoint: await createSubscription(sql, spec.streamId, spec.name, startFrom) }
  }

  const checkpoints = new CheckpointWriter(
    (position) =>
      withTimeout(
        saveCheckpoint(sql, spec.streamId, spec.name, position),
        CHECKPOINT_TIMEOUT_MS,
        () => new Error(`no answer within ${CHECKPOINT_TIMEOUT_MS} ms`),
      ),
    (position, error) =>
      report('warning', 'checkpoint', `subscription "${spec.name}" could not store checkpoint ${position}; its events after the last stored one may be delivered again`, error, {
        streamId: spec.streamId,
        name: spec.name,
        position,
      }),
  )

  const perform = async (effect: Effect): Promise<void> => {
    switch (effect.type) {
      case 'send':
        ports.get(effect.subscriberId)?.postMessage(effect.message)
        return
      case 'read':
        return background(() => readPage(effect.readId, effect.from, effect.count), (error) => ({ type: 'read_failed', readId: effect.readId, error }))
      case 'acquire_lock':
        return background(
          async () => ({
            type: 'lock_result',
            acquired: await locks.tryLock(lockName, { lost: () => mailbox.post({ type: 'lock_lost' }), handOver: () => mailbox.post({ type: 'hand_over' }) }),
          }),
          (error) => {
            // Once the actor has stopped, its lock port is closed: the attempt was cut short, not failed.
            if (current.state.status !== 'stopped') {
              report('warning', 'subscription', `subscription "${spec.name}" could not try its lock; trying again`, error, { streamId: spec.streamId, name: spec.name })
            }
            return { type: 'lock_result', acquired: false }
          },
        )
      case 'release_lock':
        await checkpoints.flush() // the last checkpoint lands before a standby can take over
        await locks.unlock(lockName, effect.leave)
        return
      case 'load_checkpoint':
        // A failure here is retried like a lost lock: back to standby, then try again.
        return background(loadCheckpoint, (error) => {
          report('warning', 'subscription', `subscription "${spec.name}" could not load its checkpoint; trying again`, error, { streamId: spec.streamId, name: spec.name })
          return { type: 'lock_lost' }
        })
      case 'save_checkpoint':
        checkpoints.save(effect.position)
        return
      case 'after': {
        const timer = setTimeout(() => {
          timers.delete(timer)
          mailbox.post(effect.message)
        }, effect.ms)
        timers.add(timer)
        return
      }
      case 'stop':
        await checkpoints.flush()
        for (const timer of timers) clearTimeout(timer)
        for (const port of ports.values()) port.close()
        finished({ reason: effect.reason, error: effect.error })
        return
    }
  }

  for (const effect of current.effects) await perform(effect)
  while (current.state.status !== 'stopped') {
    const message = await mailbox.receive()
    current = transition(current.state, message)
    if (message.type === 'connect') {
      joining.get(message.subscriberId)?.joined()
      joining.delete(message.subscriberId)
    }
    for (const effect of current.effects) await perform(effect)
  }
  // Connects still in the mailbox came after the last subscriber had gone: the actor stopped.
  for (const { refused } of joining.values()) refused(stopping())
  const outcome = await done
  feed.close()
  control.close()
  return outcome
}

/**
 * Stores checkpoints without holding up the mailbox: one write in flight at a time, and
 * positions that arrive meanwhile collapse into the latest. A failed write is carried by the
 * next one; at worst events are delivered again, never skipped.
 */
class CheckpointWriter {
  readonly #write: (position: number) => Promise<void>
  readonly #onFailure: (position: number, error: unknown) => void
  #latest: number | null = null
  #running: Promise<void> | null = null
  /** The position last written, and when. */
  stored: number | null = null
  storedAt: number | null = null

  constructor(write: (position: number) => Promise<void>, onFailure: (position: number, error: unknown) => void) {
    this.#write = write
    this.#onFailure = onFailure
  }

  save(position: number): void {
    this.#latest = position
    this.#running ??= this.#drain()
  }

  /** Resolves once every position handed in is written (or has failed). */
  async flush(): Promise<void> {
    await this.#running
  }

  async #drain(): Promise<void> {
    while (this.#latest !== null) {
      const position = this.#latest
      this.#latest = null
      await this.#write(position).then(
        () => {
          this.stored = position
          this.storedAt = Date.now()
        },
        (error: unknown) => this.#onFailure(position, error),
      )
    }
    this.#running = null
  }
}
