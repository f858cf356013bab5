// The store's writes as its callers see them: each one posted to the writer actor, traced on
// its diagnostics channel and counted in the metrics. Arguments arrive checked.
import { InvalidArgumentError } from '../errors.js'
import { describe } from '../expected_version.js'
import { channels, traced } from '../observability/channels.js'
import type { StoreMetrics } from '../observability/metrics.js'
import type { Codec } from '../serializer.js'
import type { EventData, ExpectedVersion, RecordedEvent, WriteOptions } from '../types.js'
import { checkUuid } from '../validation.js'
import { prepareEvents } from './prepare_events.js'
import type { Writer } from './writer.js'

export interface WritesConfig {
  schema: string
  /** Whether appends stamp the caller's trace context into each event's metadata. */
  recordTraceContext: boolean
}

/** The event ids of a link: each item an event or an event id. */
export function checkLinkedEventIds(eventsOrEventIds: unknown): string[] {
  if (!Array.isArray(eventsOrEventIds) || eventsOrEventIds.length === 0) {
    throw new InvalidArgumentError(`events to link must be a non-empty array; got ${describe(eventsOrEventIds)}`)
  }
  // Array.from, not map: map skips the holes of a sparse array.
  return Array.from(eventsOrEventIds, (item, i) =>
    checkUuid(typeof item === 'object' && item !== null ? (item as RecordedEvent).eventId : item, `events[${i}] (an event or an event id)`),
  )
}

/** A deletion's mode: 'soft', or 'hard' when the store allows hard deletes. */
export function checkDeleteMode(mode: unknown, enableHardDeletes: boolean, streamId: string): asserts mode is 'soft' | 'hard' {
  if (mode !== 'soft' && mode !== 'hard') throw new InvalidArgumentError(`delete mode must be 'soft' or 'hard'; got ${describe(mode)}`)
  if (mode === 'hard' && !enableHardDeletes) {
    throw new InvalidArgumentError('hard deletes are disabled; start the store with enableHardDeletes: true', { streamId })
  }
}

export class Writes {
  readonly #writer: Writer
  readonly #codec: Codec
  readonly #metrics: StoreMetrics
  readonly #config: WritesConfig

  constructor(writer: Writer, codec: Codec, metrics: StoreMetrics, config: WritesConfig) {
    this.#writer = writer
    this.#codec = codec
    this.#metrics = metrics
    this.#config = config
  }

  async append(streamId: string, expectedVersion: ExpectedVersion, expected: ExpectedVersion, events: EventData[], options: WriteOptions): Promise<void> {
    const codec = this.#codec
    const message = () => ({ schema: this.#config.schema, streamId, expectedVersion, eventCount: events.length })
    const post = (traceparent: string | undefined) => {
      // The events are checked and serialised when the writer takes them, not on the caller's turn.
      const prepare = () => ({ type: 'append' as const, streamId, expected, events: prepareEvents(events, codec, traceparent) })
      return this.#writer.post({ type: 'pending append', expected, eventCount: events.length, prepare }, options)
    }
    await this.#counted(() => traced(channels.append, message, (traced) => post(this.#config.recordTraceContext ? traced?.traceparent : undefined)))
    this.#metrics.counters.appends += 1
    this.#metrics.counters.eventsAppended += events.length
  }

  async link(streamId: string, expectedVersion: ExpectedVersion, expected: ExpectedVersion, eventIds: string[], options: WriteOptions): Promise<void> {
    const message = () => ({ schema: this.#config.schema, streamId, expectedVersion, eventCount: eventIds.length })
    await this.#counted(() => traced(channels.link, message, () => this.#writer.post({ type: 'link', streamId, expected, eventIds }, options)))
    this.#metrics.counters.links += 1
  }

  async delete(streamId: string, expectedVersion: ExpectedVersion, expected: ExpectedVersion, mode: 'soft' | 'hard', options: WriteOptions): Promise<void> {
    const message = () => ({ schema: this.#config.schema, streamId, expectedVersion, mode })
    await this.#counted(() => traced(channels.delete, message, () => this.#writer.post({ type: 'delete', streamId, expected, mode }, options)))
    this.#metrics.counters.deletes += 1
  }

  /** A write's outcome; a failed one is counted. */
  async #counted(write: () => Promise<void>): Promise<void> {
    try {
      await write()
    } catch (error) {
      this.#metrics.counters.writeErrors += 1
      throw error
    }
  }
}
