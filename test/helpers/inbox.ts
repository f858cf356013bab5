// A subscriber that records what it receives, for asserting on messages without sleeping:
// `await inbox.receive('events', { within: 2000 })`, `await inbox.refuteReceive({ within: 200 })`.
// `T`: what the subscription delivers (a mapper's values, objects so that they can be acked), the events by default.
import type { SubscriberMessage } from '../../lib/subscriptions/subscriber.js'
import type { RecordedEvent } from '../../lib/types.js'
import { Changes } from './changes.js'

export class Inbox<T extends object = RecordedEvent> {
  readonly messages: SubscriberMessage<T>[] = []
  #read = 0
  /** Told of every message; inboxes of one group can share it to wait on all of them at once. */
  readonly changes: Changes
  /** Ack every batch as it arrives. */
  autoAck: boolean
  /** Runs before a batch is recorded; throw from it to make the subscriber fail. */
  onEvents: ((message: Extract<SubscriberMessage<T>, { type: 'events' }>) => void | Promise<void>) | null = null

  constructor({ autoAck = false, changes = new Changes() } = {}) {
    this.autoAck = autoAck
    this.changes = changes
  }

  /** The subscriber function to pass to subscribeTo…. */
  readonly subscriber = async (message: SubscriberMessage<T>): Promise<void> => {
    if (message.type === 'events') await this.onEvents?.(message)
    // Ack before recording: once a test has seen a batch, its ack is on the way.
    if (this.autoAck && message.type === 'events') message.subscription.ack(message.events)
    this.messages.push(message)
    this.changes.notify()
  }

  async receive<K extends SubscriberMessage['type']>(type: K, { within = 3000 } = {}): Promise<Extract<SubscriberMessage<T>, { type: K }>> {
    await this.changes.until(() => this.messages.length > this.#read, { within, what: `no ${type} message` })
    const message = this.messages[this.#read] as SubscriberMessage<T>
    this.#read += 1
    if (message.type !== type) throw new Error(`expected a ${type} message, received ${message.type}`)
    return message as Extract<SubscriberMessage<T>, { type: K }>
  }

  /** Receives events messages until `count` events have arrived; returns them. */
  async receiveEvents(count: number, { within = 5000 } = {}): Promise<T[]> {
    const events: T[] = []
    const deadline = Date.now() + within
    while (events.length < count) events.push(...(await this.receive('events', { within: Math.max(1, deadline - Date.now()) })).events)
    return events
  }

  /**
   * Nothing arrives within `within` ms: only where no barrier can prove it sooner (an actor
   * holding back behind unacked events, a standby that keeps trying a lock). Elsewhere,
   * append a sentinel and receive it next.
   */
  async refuteReceive({ within = 300 } = {}): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, within))
    const unexpected = this.messages[this.#read]
    if (unexpected) throw new Error(`expected no message, received ${unexpected.type}`)
  }
}

export const numbersOf = (events: RecordedEvent[]) => events.map((e) => e.eventNumber)
