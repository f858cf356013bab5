// How the worker pool places its tasks: on the least busy thread, except one kind of task,
// one to a thread: the reader actors, so reads spread over every thread (lib/readers/reader_pool.ts).

/** What piscina tells its balancer about a task and a thread (the fields we use). */
interface PlacedTask {
  name: string
}
interface PoolThread {
  id: number
  currentUsage: number
  terminating: boolean
  destroyed: boolean
}

/**
 * Least busy thread below `maximumUsage` (a free one at once); a task named `onePerThread` only
 * on a thread that has not had one. Thread ids are never reused, so a dead thread's id staying
 * in the set does no harm, and a replacement actor goes to the replacement thread.
 */
export function balancer(maximumUsage: number, onePerThread: string): <T extends PoolThread>(task: PlacedTask, threads: T[]) => T | null {
  const hosting = new Set<number>()
  return <T extends PoolThread>(task: PlacedTask, threads: T[]): T | null => {
    const once = task.name === onePerThread
    let chosen: T | null = null
    for (const thread of threads) {
      if (thread.terminating || thread.destroyed || (once && hosting.has(thread.id))) continue
      if (thread.currentUsage >= maximumUsage || (chosen && chosen.currentUsage <= thread.currentUsage)) continue
      chosen = thread
      if (thread.currentUsage === 0) break
    }
    if (once && chosen) hosting.add(chosen.id)
    return chosen
  }
}
