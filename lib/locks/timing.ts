// How holders of the fleet's work (subscription actors, projections) pace their lock attempts.
// The lock session's share rules count on it: an item passed over PRESS_AFTER attempts in a
// row is taken anyway (lib/locks/lock_session.ts).

/** A holder on standby tries its lock this often. */
export const STANDBY_RETRY_MS = 500
/** After handing its lock over, a holder waits this long before trying again: the taker goes first. */
export const HAND_OVER_COOLDOWN_MS = 2000
