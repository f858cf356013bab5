import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { SCHEMA_PLACEHOLDER, statementNames, statementsDir, statementsFor, statementTexts } from '../../lib/storage/statements.js'

t.test('every statement file has a name and every name has a file', async (t) => {
  const files = readdirSync(statementsDir).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort()
  t.same(files, [...statementNames].sort())
})

t.test('each statement opens with a header comment and names no schema', async (t) => {
  for (const name of statementNames) {
    t.match(statementTexts[name], /^--/, `${name} has a header`)
    t.notMatch(readFileSync(join(statementsDir, `${name}.sql`), 'utf8'), /\bpublic\./, `${name} names no schema`)
  }
})

/** The statement without its comment lines. */
const code = (text: string) => text.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n')

t.test("every table and function of the store is qualified with the store's schema", async (t) => {
  const tables = /\b(?:FROM|JOIN|UPDATE|INTO)\s+(streams|events|links|subscriptions|snapshots|schema_migrations)\b/i
  const functions = /(?<![.\w])(stored_data|assert_expected_state)\s*\(/
  for (const name of statementNames) {
    t.notMatch(code(statementTexts[name]), tables, `${name}: no table by its bare name`)
    t.notMatch(code(statementTexts[name]), functions, `${name}: no function by its bare name`)
    if (name !== 'read_model_search_path') t.notMatch(code(statementTexts[name]), /current_schema|search_path/, `${name}: nothing read from search_path`)
  }
  const forStore = statementsFor('some_store')
  t.match(forStore.lock_all_stream, /FROM "some_store"\.streams/, 'the quoted schema is put in place')
  t.notOk(Object.values(forStore).some((text) => text.includes(SCHEMA_PLACEHOLDER)), 'no placeholder is left')
  t.equal(statementsFor('some_store'), forStore, 'one set of texts per schema')
})
