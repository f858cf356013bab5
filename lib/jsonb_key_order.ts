// PostgreSQL's jsonb does not keep the order of an object's keys: it stores them shorter
// first, then by their UTF-8 bytes. A read returns them in that order. Events handed to a
// subscription straight from the writer (lib/subscriptions/hand_off.ts) get the same order
// here, so a subscriber sees the same objects live and on replay.

/** `value` (parsed JSON) with every object's keys in jsonb's order; unchanged objects are kept. */
export function inJsonbKeyOrder(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = inJsonbKeyOrder(value[i])
    return value
  }
  const object = value as Record<string, unknown>
  const keys = Object.keys(object)
  for (const key of keys) object[key] = inJsonbKeyOrder(object[key])
  if (isSorted(keys)) return object
  const ordered: Record<string, unknown> = {}
  for (const key of [...keys].sort(compareKeys)) ordered[key] = object[key]
  return ordered
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i += 1) if (compareKeys(keys[i - 1] as string, keys[i] as string) > 0) return false
  return true
}

const ASCII = /^[\x00-\x7f]*$/

/** jsonb's key order: byte length, then bytes. ASCII keys compare as JS strings do. */
export function compareKeys(a: string, b: string): number {
  if (ASCII.test(a) && ASCII.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length - y.length || Buffer.compare(x, y)
}
