import t from 'tap'
import {
  EventStoreError,
  fromWire,
  InvalidArgumentError,
  isWireError,
  toWire,
  WrongExpectedVersionError,
} from '../../lib/errors.js'

t.test('an EventStoreError survives the wire with its class, code and details', async (t) => {
  const original = new WrongExpectedVersionError('stream "s" is at version 2, expected 1', { streamId: 's', expected: 1, actual: 2 })
  const wire = structuredClone(toWire(original))
  t.ok(isWireError(wire))
  const back = fromWire(wire)
  t.ok(back instanceof WrongExpectedVersionError)
  t.ok(back instanceof EventStoreError)
  t.match(back, { code: 'wrong_expected_version', name: 'WrongExpectedVersionError', details: { actual: 2 } })
  t.equal(back.message, original.message)
})

t.test('a plain error keeps its name and message', async (t) => {
  const back = fromWire(structuredClone(toWire(new TypeError('boom'))))
  t.notOk(back instanceof EventStoreError)
  t.match(back, { name: 'TypeError', message: 'boom' })
})

t.test('each error class has a constant code', async (t) => {
  const error = new InvalidArgumentError('bad')
  t.equal(error.code, 'invalid_argument')
  t.equal(error.name, 'InvalidArgumentError')
  t.equal(InvalidArgumentError.name, 'InvalidArgumentError')
})
