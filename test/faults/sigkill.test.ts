// SIGKILL of a writing process at random moments, five times over: every append it was told
// had succeeded is stored, every stored append is whole, and $all has no gap.
import postgres from 'postgres'
import t from 'tap'
import { freshStoreConfig } from '../helpers/database.js'
import { spawnScript } from '../helpers/processes.js'

t.test('a writing process killed mid-flight five times: no acknowledged append lost, none partial, no gap', async (t) => {
  const config = await freshStoreConfig(t)
  const acked = new Set<string>()
  for (let round = 0; round < 5; round += 1) {
    const child = spawnScript(t, 'fixtures/killable_writer.ts', { URL: config.url, SCHEMA: config.schema, ROUND: String(round) })
    await child.waitFor((line) => line === 'ready', 60_000)
    // Killed at a random moment of its run: after a random number of acknowledged appends.
    const acks = 10 + Math.floor(Math.random() * 40)
    await child.waitFor(() => child.lines.filter((line) => line.startsWith('ack ')).length >= acks, 60_000)
    child.process.kill('SIGKILL')
    await child.exited
    for (const line of child.lines) if (line.startsWith('ack ')) acked.add(line.slice(4))
  }
  const sql = postgres(config.url, { max: 1, onnotice: () => {}, connection: { search_path: config.schema } })
  t.teardown(() => sql.end({ timeout: 1 }))
  const appends = await sql<{ append_id: string; events: number; size: number }[]>`
    SELECT data->>'appendId' AS append_id, count(*)::int AS events, max((data->>'size')::int) AS size FROM events GROUP BY 1`
  const [span] = await sql<{ n: number; last: number }[]>`SELECT count(*)::int AS n, coalesce(max(global_position), 0)::int AS last FROM events`
  const stored = new Set(appends.map((a) => a.append_id))
  t.ok(acked.size > 50, `${acked.size} appends were acknowledged before the kills`)
  t.same([...acked].filter((id) => !stored.has(id)), [], 'every acknowledged append is stored')
  t.same(appends.filter((a) => a.events !== a.size), [], 'every stored append is whole')
  t.equal(span?.n, span?.last, '$all has no gap')
})
