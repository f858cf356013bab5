import t from 'tap'
import { checkExpectedVersion, parseExpectedVersion } from '../../lib/expected_version.js'

const missing = { exists: false, version: 0, deleted: false }
const atTwo = { exists: true, version: 2, deleted: false }
const deleted = { exists: true, version: 2, deleted: true }
const codeOf = (error: { code: string } | null) => error?.code ?? null

t.test('parse accepts the four forms and refuses anything else', async (t) => {
  for (const ok of [0, 5, 'any_version', 'no_stream', 'stream_exists'] as const) t.equal(parseExpectedVersion(ok), ok)
  for (const bad of [-1, 1.5, '3', null, undefined, Number.NaN, 2 ** 60, 'any']) {
    t.throws(() => parseExpectedVersion(bad), { code: 'invalid_argument' }, `refuses ${String(bad)}`)
  }
})

t.test('check against a missing stream', async (t) => {
  t.equal(codeOf(checkExpectedVersion('s', 0, missing)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'any_version', missing)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'no_stream', missing)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'stream_exists', missing)), 'stream_not_found')
  t.equal(codeOf(checkExpectedVersion('s', 1, missing)), 'wrong_expected_version')
})

t.test('check against a stream at version 2', async (t) => {
  t.equal(codeOf(checkExpectedVersion('s', 2, atTwo)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'any_version', atTwo)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'stream_exists', atTwo)), null)
  t.equal(codeOf(checkExpectedVersion('s', 'no_stream', atTwo)), 'stream_exists')
  t.equal(codeOf(checkExpectedVersion('s', 0, atTwo)), 'wrong_expected_version')
  t.equal(codeOf(checkExpectedVersion('s', 3, atTwo)), 'wrong_expected_version')
  t.match(checkExpectedVersion('s', 1, atTwo)?.details, { streamId: 's', expected: 1, actual: 2 })
})

t.test('a deleted stream refuses every expected version', async (t) => {
  for (const expected of [2, 'any_version', 'stream_exists', 'no_stream'] as const) {
    t.equal(codeOf(checkExpectedVersion('s', expected, deleted)), 'stream_deleted')
  }
})
