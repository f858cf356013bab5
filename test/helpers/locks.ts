// A lock another session holds until released: what it blocks waits behind it, as behind a
// slow writer, a batch in flight or an administrator's LOCK TABLE.
import type postgres from 'postgres'

/** Runs `statement` (a LOCK TABLE, a SELECT … FOR UPDATE) in a transaction kept open; resolves to its release. */
export async function holdLock(admin: postgres.Sql, statement: string): Promise<() => Promise<void>> {
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let locked = () => {}
  const isLocked = new Promise<void>((resolve) => (locked = resolve))
  const holding = admin.begin(async (tx) => {
    await tx.unsafe(statement)
    locked()
    await released
  })
  await Promise.race([isLocked, holding])
  return async () => {
    release()
    await holding
  }
}
