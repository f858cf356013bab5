// Property: whatever order reads, acks, appends, hand-offs, lost locks and departing
// subscribers arrive in, a subscription actor's FSM holds at most maxSize events besides those in flight,
// never gives a subscriber more than its buffer, never stores a checkpoint past an event not
// acknowledged, never moves it back, and in the end delivers every event at least once.
// fast-check draws the schedule; a small world performs the effects as process.ts would.
import fc from 'fast-check'
import t from 'tap'
import type { QueuedEvent, SubscriptionMessage, SubscriptionSpec } from '../../lib/subscriptions/messages.js'
import type { RecordedEvent } from '../../lib/types.js'
import { type Effect, start, transition } from '../../workers/subscription/fsm.js'
import { initialState, type SubscriptionState } from '../../workers/subscription/state.js'

const event = (n: number): QueuedEvent => ({
  event: { eventNumber: n, eventId: `id-${n}`, streamId: 's', streamVersion: n, eventType: 'E', data: {}, metadata: {}, causationId: null, correlationId: null, createdAt: new Date(0) } as RecordedEvent,
  partitionKey: null,
})

interface World {
  stored: number
  storedCheckpoint: number
  acked: Set<number>
  delivered: Set<number>
  /** Per subscriber id: events sent and not acked. */
  inFlight: Map<string, number[]>
  bufferSize: Map<string, number>
  /** Results of background work and timers, waiting to be posted back. */
  pending: SubscriptionMessage[]
  nextSubscriber: number
  /** Sum of the buffer sizes of every subscriber connected so far. */
  buffersGiven: number
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what)
}

function simulate(spec: SubscriptionSpec, initial: number, subscribers: number[], choices: number[]): void {
  const world: World = { stored: initial, storedCheckpoint: 0, acked: new Set(), delivered: new Set(), inFlight: new Map(), bufferSize: new Map(), pending: [], nextSubscriber: 0, buffersGiven: 0 }
  let state: SubscriptionState = initialState(spec)
  const perform = (effects: Effect[]) => {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          if (effect.message.type === 'events') {
            const list = world.inFlight.get(effect.subscriberId)
            check(list !== undefined, 'sent to a subscriber that is gone')
            for (const n of effect.message.batches.flat().map((e) => e.eventNumber)) {
              check(n <= world.stored, `event ${n} sent before it was stored`)
              list?.push(n)
              world.delivered.add(n)
            }
            check((list?.length ?? 0) <= (world.bufferSize.get(effect.subscriberId) ?? 0), 'more in flight than the buffer')
          }
          break
        case 'read': {
          // Reads see what is stored when they run, which may be later than asked.
          const { readId, from, count } = effect
          world.pending.push({ type: 'read_done', readId, events: [], requested: count, from } as never)
          break
        }
        case 'acquire_lock':
          world.pending.push({ type: 'lock_result', acquired: true })
          break
        case 'load_checkpoint':
          world.pending.push({ type: 'checkpoint_loaded', checkpoint: -1 })
          break
        case 'save_checkpoint': {
          check(effect.position >= world.storedCheckpoint, `checkpoint moved back from ${world.storedCheckpoint} to ${effect.position}`)
          for (let n = 1; n <= effect.position; n += 1) check(world.acked.has(n), `checkpoint ${effect.position} stored while ${n} was not acked`)
          world.storedCheckpoint = effect.position
          break
        }
        case 'after':
          world.pending.push(effect.message)
          break
        case 'release_lock':
        case 'stop':
          break
      }
    }
  }
  const post = (message: SubscriptionMessage) => {
    const next = transition(state, message)
    state = next.state
    perform(next.effects)
    // In flight counts besides maxSize (up to each subscriber's buffer); events taken back
    // from a subscriber that left join the queue, so the bound adds every buffer ever given.
    const held = state.queue.length + (state.handedOffDuringRead?.events.length ?? 0) + state.subscribers.reduce((sum, s) => sum + s.inFlight.length, 0)
    check(held <= spec.maxSize + world.buffersGiven, `holds ${held} events, more than maxSize + buffers`)
    check((state.handedOffDuringRead?.events.length ?? 0) <= spec.maxSize, 'holds more hand-offs than maxSize during a read')
  }
  const connect = (bufferSize: number) => {
    const id = `sub-${(world.nextSubscriber += 1)}`
    world.inFlight.set(id, [])
    world.bufferSize.set(id, bufferSize)
    world.buffersGiven += bufferSize
    post({ type: 'connect', subscriberId: id, bufferSize })
  }
  /** Posts the oldest pending result, filled in as of now. */
  const settleOne = (index: number) => {
    const [message] = world.pending.splice(index % world.pending.length, 1)
    if (!message) return
    if (message.type === 'read_done') {
      const { from } = message as unknown as { from: number }
      const last = Math.min(world.stored, from + message.requested - 1)
      const events: QueuedEvent[] = []
      for (let n = from; n <= last; n += 1) events.push(event(n))
      post({ type: 'read_done', readId: message.readId, events, requested: message.requested })
    } else if (message.type === 'checkpoint_loaded') {
      post({ type: 'checkpoint_loaded', checkpoint: world.storedCheckpoint })
    } else {
      post(message)
    }
  }
  const ackSome = (choice: number) => {
    const ids = [...world.inFlight.keys()]
    const id = ids[choice % Math.max(1, ids.length)]
    const list = id === undefined ? undefined : world.inFlight.get(id)
    if (!id || !list || list.length === 0) return
    const n = list.splice(choice % list.length, 1)[0] as number
    world.acked.add(n)
    post({ type: 'ack', subscriberId: id, eventNumbers: [n] })
  }

  const begin = start(state)
  state = begin.state
  perform(begin.effects)
  for (const size of subscribers) connect(size)
  for (const choice of choices) {
    switch (choice % 8) {
      case 0:
      case 1:
        if (world.pending.length > 0) settleOne(choice >> 3)
        break
      case 2:
      case 3:
        ackSome(choice >> 3)
        break
      case 4: {
        // An append: a notification, or the writer's hand-off of exactly those events.
        const count = (choice >> 3) % 4 + 1
        const first = world.stored + 1
        world.stored += count
        if ((choice >> 5) % 2 === 0) post({ type: 'notify', lastPosition: world.stored })
        else post({ type: 'committed', events: Array.from({ length: count }, (_, i) => event(first + i)), last: world.stored })
        break
      }
      case 5: {
        // A subscriber leaves (its unacked events go back), and another joins.
        const ids = [...world.inFlight.keys()]
        if (ids.length < 2) break
        const id = ids[(choice >> 3) % ids.length] as string
        world.inFlight.delete(id)
        post({ type: 'subscriber_down', subscriberId: id, error: null })
        connect(((choice >> 6) % 4) + 1)
        break
      }
      case 6:
        // The lock session is lost: everything in flight is forgotten and delivered again.
        if (state.status === 'running' && (choice >> 3) % 4 === 0) {
          // Everything after the stored checkpoint must now be delivered again.
          for (const list of world.inFlight.values()) list.length = 0
          for (const n of world.delivered) if (n > world.storedCheckpoint) world.delivered.delete(n)
          post({ type: 'lock_lost' })
        }
        break
      case 7:
        post({ type: 'checkpoint_timer' })
        break
    }
  }
  // Quiesce: settle everything and ack everything until nothing moves.
  for (let round = 0; round < 10_000; round += 1) {
    const inFlight = [...world.inFlight.values()].some((list) => list.length > 0)
    if (world.pending.length === 0 && !inFlight) {
      if (world.storedCheckpoint === world.stored) break
      post({ type: 'notify', lastPosition: null })
      if (world.pending.length === 0) break
      continue
    }
    if (inFlight) ackSome(round)
    else settleOne(0)
  }
  for (let n = 1; n <= world.stored; n += 1) check(world.delivered.has(n), `event ${n} of ${world.stored} was never delivered`)
  if (spec.checkpointThreshold === 1 || spec.checkpointAfter > 0) check(world.storedCheckpoint === world.stored, `checkpoint ${world.storedCheckpoint}, stored ${world.stored}`)
}

t.test('every schedule keeps the subscription invariants and delivers everything', async (t) => {
  fc.assert(
    fc.property(
      fc.record({
        maxSize: fc.integer({ min: 2, max: 20 }),
        checkpointThreshold: fc.integer({ min: 1, max: 4 }),
        checkpointAfter: fc.constantFrom(0, 100),
      }),
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 300 }),
      (options, initial, subscribers, choices) => {
        const spec: SubscriptionSpec = { streamId: '$all', name: 'p', startFrom: 0, transient: false, partitioned: false, filter: null, ...options }
        simulate(spec, initial, subscribers, choices)
      },
    ),
    { numRuns: 1500, includeErrorInReport: true },
  )
  t.pass('1,500 random schedules')
})
