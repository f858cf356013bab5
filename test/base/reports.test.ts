import t from 'tap'
import { ConnectionError, toWire } from '../../lib/errors.js'
import { makeReport } from '../../lib/reports.js'

t.test('a report keeps the code and message of what was thrown, also when it crossed from a worker', async (t) => {
  t.match(makeReport('warning', 'writer', 'lost', new ConnectionError('gone')), { level: 'warning', source: 'writer', message: 'lost: gone', code: 'connection' })
  t.match(makeReport('warning', 'lock', 'lost', toWire(new ConnectionError('gone'))), { message: 'lost: gone', code: 'connection' })
  t.match(makeReport('error', 'checkpoint', 'failed', Object.assign(new Error('x'), { code: 'ECONNRESET' })), { message: 'failed: x', code: 'ECONNRESET' })
  t.match(makeReport('warning', 'listener', 'back'), { message: 'back', code: null, details: {} })
})
