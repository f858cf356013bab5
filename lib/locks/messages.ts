// The calls between an actor on a worker thread and the store's lock session on its main
// thread (lib/locks/host.ts, lib/locks/remote.ts), over lib/actors/calls.ts. They share one
// port, both ways: what the session tells a holder then arrives after the answer that made it one.

/** What an actor calls on the store's lock session. */
export interface LockCalls {
  tryLock(name: string): Promise<boolean>
  /** `leave`: the store no longer wants the item at all (its holder stops). */
  unlock(name: string, leave: boolean): Promise<void>
}

/** What the lock session calls on the actor holding `name` (lib/locks/lock_session.ts LockHolder). */
export interface HolderCalls {
  lost(name: string): void
  handOver(name: string): void
}
