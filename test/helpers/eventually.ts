// Polls what only PostgreSQL knows (a row, a checkpoint, a backend in pg_stat_activity) and
// tells no one about when it changes: the one place tests wait on a clock, bounded.
export async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean, { within = 5000, every = 25 } = {}): Promise<T> {
  const deadline = Date.now() + within
  for (;;) {
    const value = await read()
    if (holds(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}

/** Whether `check` came to hold within `within` ms. */
export const becomesTrue = (check: () => Promise<boolean>, within = 5000): Promise<boolean> => eventually(check, (holds) => holds, { within })
