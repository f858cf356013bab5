// The event ids the store makes: UUID version 7 (RFC 9562), 48 bits of Unix milliseconds
// then random bits. Ids made close in time sort close together, so the events_event_id index
// grows at its right edge instead of at random places (benchmarks/README.md measures it).
import { randomFillSync } from 'node:crypto'

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
/** Random bytes drawn in bulk: one system call per 409 ids. */
const pool = Buffer.allocUnsafe(4096)
let used = pool.length
const RANDOM_BYTES = 10

/**
 * The id is written into these bytes and read out as one string: built by concatenation,
 * it was a tree of ~14 partial strings: ~300 bytes of garbage an id, and 3x slower.
 * The time part, up to the version digit, is rewritten only when the millisecond changes.
 */
const text = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1')
let prefixTime = -1

export function uuidV7(now: number = Date.now()): string {
  if (used + RANDOM_BYTES > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  if (now !== prefixTime) {
    const time = now.toString(16).padStart(12, '0')
    text.write(time.slice(0, 8), 0, 'latin1')
    text.write(time.slice(8, 12), 9, 'latin1')
    prefixTime = now
  }
  const r = (i: number) => pool[used + i] as number
  text[15] = HEX_DIGITS[r(0) & 0x0f] as number
  writeByte(16, r(1))
  writeByte(19, (r(2) & 0x3f) | 0x80) // the variant, 10xx
  writeByte(21, r(3))
  for (let i = 0; i < 6; i += 1) writeByte(24 + 2 * i, r(4 + i))
  used += RANDOM_BYTES
  return text.toString('latin1')
}

function writeByte(at: number, byte: number): void {
  text[at] = HEX_DIGITS[byte >> 4] as number
  text[at + 1] = HEX_DIGITS[byte & 0x0f] as number
}
