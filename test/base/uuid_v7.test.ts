import t from 'tap'
import { uuidV7 } from '../../lib/uuid_v7.js'

t.test('version 7 UUIDs: layout, time order, no repeats', async (t) => {
  const id = uuidV7(0x0123456789ab)
  t.match(id, /^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'the time, version 7, the RFC 9562 variant')
  t.ok(uuidV7(1_700_000_000_000) < uuidV7(1_700_000_000_001), 'a later millisecond sorts later')
  const ids = new Set(Array.from({ length: 100_000 }, () => uuidV7(1_700_000_000_000)))
  t.equal(ids.size, 100_000, 'ids made in the same millisecond differ')
})
