import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { statementNames, statements, statementsDir } from '../../lib/storage/statements.js'

t.test('every statement file has a name and every name has a file', async (t) => {
  const files = readdirSync(statementsDir).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort()
  t.same(files, [...statementNames].sort())
})

t.test('each statement opens with a header comment and names no schema', async (t) => {
  for (const name of statementNames) {
    t.match(statements[name], /^--/, `${name} has a header`)
    t.notMatch(readFileSync(join(statementsDir, `${name}.sql`), 'utf8'), /\bpublic\./, `${name} names no schema`)
  }
})
