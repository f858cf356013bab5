// Runs one batch through storage. A deletion goes alone in its own transaction. Appends and
// links are planned (group_commit.ts) and go as one statement against the states their
// requests expect when those can be assumed; otherwise, or when that statement is refused,
// by the locking write, which plans against what it reads and so finds out exactly which
// request fails.
import type { EventStoreError } from '../errors.js'
import type { NotifyTarget } from '../storage/notifications.js'
import { writeExpected, writeLocking } from '../storage/append.js'
import type { Sql } from '../storage/database.js'
import { isRolledBack } from '../storage/pg_errors.js'
import { deleteStream } from '../storage/streams.js'
import type { CommittedEvents, WritePlan } from '../storage/write_plan.js'
import { assumeExpectedStates, batchLookups, planBatch } from './group_commit.js'
import type { WriteRequest } from './messages.js'
import { type Attempt, recordDeletion, recordWrite } from './outcomes.js'
import type { Envelope } from './queue.js'

/**
 * What a batch's requests came to: each one's outcome (null: written), the events written,
 * and for a batch that wrote, where it found $all, where it left it and how many links it wrote.
 */
export interface BatchResult {
  outcomes: (EventStoreError | null)[]
  committed: CommittedEvents | null
  all: { before: number; after: number; links: number } | null
}

/** Counts batches by how they were written, for the writer's stats. */
export interface WriteCounts {
  expected: number
  locking: number
}

/**
 * Plans and sends a batch; `attempt` records what was sent, should the connection be lost.
 * The statement is queued on `sql` before the first await, so batches reach the connection
 * in the order they were started.
 */
export async function executeBatch(sql: Sql, notify: NotifyTarget, batch: readonly Envelope[], attempt: Attempt, counts: WriteCounts): Promise<BatchResult> {
  const [first] = batch
  if (first?.request.type === 'delete') {
    recordDeletion(attempt, first.request.streamId)
    return { outcomes: [await deleteStream(sql, first.request)], committed: null, all: null }
  }
  const requests = batch.map((e) => e.request as WriteRequest)
  const assumed = assumeExpectedStates(requests)
  if (assumed) {
    const plan = planBatch(requests, assumed.snapshot)
    // A refusal is only certain once the state it was judged against is known to hold.
    if (plan.write && plan.outcomes.every((outcome) => outcome === null)) {
      try {
        recordWrite(attempt, plan.write, plan.outcomes)
        const { first: offset, createdAt } = await writeExpected(sql, notify, plan.write, assumed)
        counts.expected += 1
        const committed = plan.write.eventCount > 0 ? { events: plan.write.events, positionOffset: offset, createdAt } : null
        return { outcomes: plan.outcomes, committed, all: { before: offset, after: offset + plan.write.eventCount, links: 0 } }
      } catch (error) {
        // Anything the server refused was rolled back; the locking write finds out exactly what.
        if (!isRolledBack(error)) throw error
      }
    }
  }
  counts.locking += 1
  let outcomes: (EventStoreError | null)[] = []
  let write: WritePlan | null = null
  let found = 0
  const { createdAt } = await writeLocking(sql, notify, batchLookups(requests), (snapshot) => {
    found = snapshot.lastPosition
    const plan = planBatch(requests, snapshot)
    outcomes = plan.outcomes
    write = plan.write
    if (write) recordWrite(attempt, write, outcomes)
    return write
  })
  const written = write as WritePlan | null
  // A batch with links is not handed off: a link's event is not in the plan, so only a read gets it.
  const handedOff = written !== null && written.eventCount > 0 && written.links.positions.length === 0
  const all = written ? { before: found, after: written.lastPosition, links: written.links.positions.length } : null
  return { outcomes, committed: handedOff ? { events: written.events, positionOffset: 0, createdAt } : null, all }
}
