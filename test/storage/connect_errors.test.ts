// The connection-time failures and what their messages tell a user to do. The same errors
// from real servers are in test/cli/connection_errors.test.ts and test/cli/embedded.test.ts.
import postgres from 'postgres'
import t from 'tap'
import { ConnectionError, ServerError } from '../../lib/errors.js'
import { connectFailure } from '../../lib/storage/connect_errors.js'

const PASSWORD = 'hunter2-secret'
const url = `postgres://alice:${PASSWORD}@db.example:6543/orders`
const serverError = (code: string, message: string) => new postgres.PostgresError({ code, message, severity: 'FATAL' } as unknown as string)
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:6543`), { code })

t.test('each connection-time failure is a connection error saying what to do, with no password', async (t) => {
  const cases = [
    { error: serverError('28P01', 'password authentication failed for user "alice"'), details: { sqlstate: '28P01' }, hint: /check the user and password in the URL/ },
    { error: serverError('28000', 'role "alice" does not exist'), details: { sqlstate: '28000' }, hint: /role "alice" does not exist.*create that role/ },
    { error: serverError('3D000', 'database "orders" does not exist'), details: { sqlstate: '3D000' }, hint: /no database "orders".*run `pg-eventstore create`/ },
    { error: socketError('ECONNREFUSED'), details: { code: 'ECONNREFUSED' }, hint: /db\.example:6543.*is the server running\? Check the host and port/ },
    { error: socketError('CONNECT_TIMEOUT'), details: { code: 'CONNECT_TIMEOUT' }, hint: /is the server running/ },
    { error: socketError('ENOTFOUND'), details: { code: 'ENOTFOUND' }, hint: /cannot find the host "db\.example"/ },
  ]
  for (const { error, details, hint } of cases) {
    const mapped = connectFailure(error, url)
    t.ok(mapped instanceof ConnectionError, error.message)
    t.match(mapped, { code: 'connection', details: { ...details, host: 'db.example', port: 6543, user: 'alice', database: 'orders' }, cause: error })
    t.match(mapped?.message, hint)
    t.notOk(JSON.stringify({ message: mapped?.message, details: mapped?.details }).includes(PASSWORD), 'no password')
  }
})

t.test('a driver error already wrapped is seen through; anything else is left alone', async (t) => {
  const wrapped = new ServerError('unexpected PostgreSQL error 3D000', { sqlstate: '3D000' }, { cause: serverError('3D000', 'database "orders" does not exist') })
  t.match(connectFailure(wrapped, url), { code: 'connection', details: { sqlstate: '3D000' } })
  t.equal(connectFailure(serverError('42P01', 'relation "events" does not exist'), url), null)
  t.equal(connectFailure(socketError('ECONNRESET'), url), null, 'a connection lost later is the driver-error mapping\'s')
  t.equal(connectFailure(new Error('no code'), url), null)
})

t.test('without a database in the URL, the one named after the user is meant', async (t) => {
  t.match(connectFailure(serverError('3D000', 'database "alice" does not exist'), 'postgres://alice@db.example'), {
    details: { database: 'alice', port: 5432 },
    message: /no database "alice"/,
  })
})
