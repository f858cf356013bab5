import t from 'tap'
import { errorFor, type EventStoreError } from '../../lib/errors.js'
import type { Witness } from '../../lib/storage/append.js'
import type { WritePlan } from '../../lib/storage/write_plan.js'
import { type Attempt, MAX_RETRIES, recordDeletion, recordWrite, type SettlingContext, settleLost } from '../../lib/writer/outcomes.js'
import type { Envelope } from '../../lib/writer/queue.js'

/** A caller's envelope that notes how it was settled. */
function caller(streamId: string, retries = 0) {
  const heard: { result: string | null } = { result: null }
  const envelope: Envelope = {
    request: { type: 'append', streamId, expected: 0, events: [] },
    resolve: () => (heard.result = 'written'),
    reject: (error) => (heard.result = (error as EventStoreError).code),
    release: () => {},
    settled: true,
    retries,
  }
  return { envelope, heard }
}

const lostConnection = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })

/** A context whose server answers `answers` in turn (an Error: the server cannot be reached). */
function context(answers: (boolean | Error)[], overrides: Partial<SettlingContext> = {}) {
  const seen = { asked: [] as Witness[], reports: [] as string[], unknown: 0, sentAgain: [] as Envelope[][] }
  const settling: SettlingContext = {
    isWritten: async (witness) => {
      seen.asked.push(witness)
      const answer = answers.length > 1 ? answers.shift() : answers[0]
      if (answer instanceof Error) throw answer
      return answer as boolean
    },
    outcomeTimeout: 2000,
    abandoned: () => false,
    report: (level, _source, message) => seen.reports.push(`${level}: ${message}`),
    onOutcomeUnknown: () => (seen.unknown += 1),
    sendAgain: (batch) => seen.sentAgain.push(batch),
    ...overrides,
  }
  return { settling, seen }
}

const sentEvent: Attempt = { witness: { type: 'event', eventId: 'e-1' }, outcomes: [null, errorFor('wrong_expected_version', 'refused', {})] }

t.test('found stored: the batch had committed, and each caller gets its own outcome', async (t) => {
  const [a, b] = [caller('a'), caller('b')]
  const { settling, seen } = context([true])
  t.equal(await settleLost([a.envelope, b.envelope], sentEvent, lostConnection, true, settling), 'settled')
  t.same([a.heard.result, b.heard.result], ['written', 'wrong_expected_version'])
  t.same(seen.asked, [{ type: 'event', eventId: 'e-1' }], 'the witness was looked for')
  t.equal(seen.unknown, 1, 'subscriptions are told to read what may not have been handed to them')
  t.match(seen.reports, [/^warning: .*it had committed/])
})

t.test('not stored after a lost connection: the batch is sent again, until it has been sent MAX_RETRIES times more', async (t) => {
  const fresh = caller('a')
  const { settling, seen } = context([false])
  t.equal(await settleLost([fresh.envelope], sentEvent, lostConnection, true, settling), 'sent again')
  t.same(seen.sentAgain, [[fresh.envelope]])
  t.equal(fresh.heard.result, null, 'the caller waits for the retry')
  t.match(seen.reports, [/sending it again/])

  const worn = caller('b', MAX_RETRIES)
  t.equal(await settleLost([worn.envelope], sentEvent, lostConnection, true, settling), 'settled')
  t.equal(worn.heard.result, 'connection')
  t.match(seen.reports.at(-1), new RegExp(`^warning: .*lost ${MAX_RETRIES + 1} times`))
})

t.test('not stored, and the connection not to blame: handled as rolled back, nothing reported', async (t) => {
  const { envelope, heard } = caller('a')
  const { settling, seen } = context([false])
  t.equal(await settleLost([envelope], sentEvent, new Error('a bug of the driver'), false, settling), 'rolled back')
  t.same([heard.result, seen.reports, seen.unknown], [null, [], 0])
})

t.test('nothing sent for writing yet (no witness): not committed, without asking the server', async (t) => {
  const { settling, seen } = context([true])
  const nothingSent: Attempt = { witness: null, outcomes: [] }
  t.equal(await settleLost([caller('a').envelope], nothingSent, lostConnection, true, settling), 'sent again')
  t.same([seen.asked, seen.unknown], [[], 0])
})

t.test('the server out of reach until outcomeTimeout: the callers hear the outcome is unknown', async (t) => {
  const { envelope } = caller('a')
  let failure: unknown = null
  envelope.reject = (error) => (failure = error)
  const { settling, seen } = context([new Error('ECONNREFUSED')], { outcomeTimeout: 300 })
  t.equal(await settleLost([envelope], sentEvent, lostConnection, true, settling), 'settled')
  t.match(failure, { code: 'connection', details: { outcome: 'unknown' }, message: /within 300 ms/ })
  t.ok(seen.asked.length >= 2, `the server was tried again (${seen.asked.length} times)`)
  t.match(seen.reports, [/^error: /], 'an unknown outcome is reported as an error')
})

t.test('the server back within outcomeTimeout: its answer settles the batch', async (t) => {
  const { envelope, heard } = caller('a')
  const { settling, seen } = context([new Error('ECONNREFUSED'), true])
  t.equal(await settleLost([envelope], { witness: sentEvent.witness, outcomes: [null] }, lostConnection, true, settling), 'settled')
  t.same([heard.result, seen.asked.length], ['written', 2])
})

t.test('once stop() was cut short: nothing is looked into or sent again', async (t) => {
  const unknown = caller('a')
  const { settling, seen } = context([true], { abandoned: () => true })
  t.equal(await settleLost([unknown.envelope], sentEvent, lostConnection, true, settling), 'settled')
  t.same([unknown.heard.result, seen.asked], ['connection', []])
  const nothingSent = caller('b')
  t.equal(await settleLost([nothingSent.envelope], { witness: null, outcomes: [] }, lostConnection, true, settling), 'settled')
  t.same([nothingSent.heard.result, seen.sentAgain], ['connection', []])
  t.match(seen.reports, [/stopped while this write was in flight; whether it committed is not known/, /stopped while this write was in flight; it was not committed/])
})

t.test('the witness is the first thing the write stores: an event, else a link; a deletion is its stream', async (t) => {
  const columns = { positions: [], eventIds: [], streams: [], versions: [], types: [], causationIds: [], correlationIds: [], data: [], metadata: [] }
  const plan = (eventIds: string[], links: WritePlan['links']): WritePlan => ({ newStreams: [], grownStreams: [], lastPosition: 0, events: { ...columns, eventIds }, links, eventCount: eventIds.length })
  const attempt: Attempt = { witness: null, outcomes: [] }
  recordWrite(attempt, plan(['e-1', 'e-2'], { streams: ['l'], versions: [1], positions: [9] }), [null])
  t.same(attempt, { witness: { type: 'event', eventId: 'e-1' }, outcomes: [null] })
  recordWrite(attempt, plan([], { streams: ['l', 'm'], versions: [1, 1], positions: [9, 3] }), [null, null])
  t.same(attempt.witness, { type: 'link', streamUuid: 'l', position: 9 })
  recordDeletion(attempt, 'gone')
  t.same(attempt, { witness: { type: 'deleted', streamUuid: 'gone' }, outcomes: [null] })
})
