// Where the tests' PostgreSQL is: DATABASE_URL when set, else one embedded server for the
// whole run, held by global_setup.ts and released by global_teardown.ts.
import { fileURLToPath } from 'node:url'

export const testDataDir = fileURLToPath(new URL('../../.pg-eventstore-test', import.meta.url))
export const suiteHolder = 'test-suite'
