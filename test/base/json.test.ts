import t from 'tap'
import { stringifyStrict } from '../../lib/json.js'

t.test('plain JSON values pass unchanged', async (t) => {
  const value = { a: [1, 'two', true, null, { b: -0.5 }], c: 'ünïcödé 🎉', d: new Date(0) }
  t.equal(stringifyStrict(value, 'data'), JSON.stringify(value))
})

t.test('values JSON or jsonb cannot hold are refused with their path', async (t) => {
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const cases: [unknown, string][] = [
    [undefined, 'data'],
    [{ x: Number.NaN }, 'data.x'],
    [{ x: [1, Number.POSITIVE_INFINITY] }, 'data.x[1]'],
    [{ x: 10n }, 'data.x'],
    [{ f: () => 1 }, 'data.f'],
    [{ s: Symbol('s') }, 'data.s'],
    [circular, 'data.self'],
    [{ s: 'nul \u0000 byte' }, 'data.s'],
    [{ s: 'lone \ud800 surrogate' }, 'data.s'],
    [{ ['k\u0000']: 1 }, 'data.k\u0000'],
    [{ m: new Map([[1, 2]]) }, 'data.m'],
  ]
  for (const [value, path] of cases) {
    t.throws(() => stringifyStrict(value, 'data'), { code: 'invalid_argument', details: { path } }, `refuses ${path}`)
  }
})

t.test('undefined properties are dropped, as JSON does', async (t) => {
  t.equal(stringifyStrict({ a: 1, b: undefined }, 'data'), '{"a":1}')
})
