// `npm run demo`: a short, readable tour of the store against a real PostgreSQL.
import type { EventStoreConfig } from '../config.js'
import { EventStore } from '../event_store.js'
import { withDatabase } from '../store/startup.js'
import { EventStoreError } from '../errors.js'
import { drop, migrate } from '../storage/schema.js'

const accounts = ['account-alice', 'account-bob', 'account-carol']

export async function runDemo(config: EventStoreConfig): Promise<string> {
  const say = (line = '') => console.log(line)
  const where = config.url ?? process.env.DATABASE_URL ? 'the PostgreSQL server in DATABASE_URL / --url' : 'an embedded PostgreSQL server (.pg-eventstore/)'
  say(`1. Preparing a fresh store in schema "${config.schema}" on ${where}`)
  await withDatabase(config, async (sql, resolved) => {
    await drop(sql, resolved.schema)
    await migrate(sql, resolved.schema)
  })
  const store = await EventStore.start(config)
  try {
    say('\n2. Twelve writers deposit into three accounts at once (expected version "any_version")')
    const started = performance.now()
    await Promise.all(
      Array.from({ length: 12 }, (_, writer) =>
        store.appendToStream(accounts[writer % 3] as string, 'any_version', [
          { eventType: 'MoneyDeposited', data: { amount: 10 * (writer + 1), by: `writer-${writer + 1}` } },
        ]),
      ),
    )
    say(`   12 appends committed in ${(performance.now() - started).toFixed(1)} ms; queued appends share transactions (group commit)`)

    const version = (await store.streamInfo('account-alice')).streamVersion
    say(`\n3. Two clerks both read alice at version ${version} and try to withdraw (optimistic concurrency)`)
    const clerks = ['clerk-1', 'clerk-2'].map((clerk) =>
      store.appendToStream('account-alice', version, [{ eventType: 'MoneyWithdrawn', data: { amount: 25, by: clerk } }]).then(
        () => `   ${clerk}: appended at version ${version + 1}`,
        (error: unknown) =>
          `   ${clerk}: refused: ${error instanceof EventStoreError ? `${error.code}, ${error.message}` : String(error)}`,
      ),
    )
    for (const line of await Promise.all(clerks)) say(line)

    say('\n4. Reading every account back')
    for (const account of accounts) {
      const events = await store.readStreamForward(account)
      let balance = 0
      for (const event of events) {
        const { amount } = event.data as { amount: number }
        balance += event.eventType === 'MoneyDeposited' ? amount : -amount
      }
      say(`   ${account.padEnd(14)} ${String(events.length).padStart(2)} events  balance ${String(balance).padStart(4)}`)
    }

    say('\n5. The global stream $all holds every event once, in commit order, without gaps')
    const all = await store.readAllStreamsForward()
    say(`   positions ${all.map((e) => e.eventNumber).join(' ')}`)
    say(`   streams   ${all.map((e) => e.streamId.replace('account-', '')[0]).join(' ')}`)

    say('\n6. A persistent subscription catches up on $all, then receives a live event')
    let received = 0
    let live: (eventType: string) => void = () => {}
    const liveEvent = new Promise<string>((resolve) => {
      live = resolve
    })
    await store.subscribeToAllStreams('demo-projector', (message) => {
      if (message.type !== 'events') return
      received += message.events.length
      const last = message.events.at(-1) as { eventType: string; eventNumber: number }
      if (last.eventNumber > all.length) live(last.eventType)
      message.subscription.ack(message.events)
    }, { bufferSize: 100 })
    await store.appendToStream('account-bob', 'any_version', [{ eventType: 'AccountFrozen', data: { amount: 0 } }])
    say(`   received ${all.length} stored events, then the live "${await liveEvent}" (${received} in all), each acked`)
  } finally {
    await store.stop()
  }
  return `\nDone. Inspect it with: npx pg-eventstore info --schema ${config.schema}`
}
