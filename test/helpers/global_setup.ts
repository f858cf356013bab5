// tap `before`: starts the shared embedded server once for the run (skipped with DATABASE_URL).
import { acquireEmbeddedServer } from '../../lib/embedded/server.js'
import { suiteHolder, testDataDir } from './server.js'

if (!process.env.DATABASE_URL) await acquireEmbeddedServer({ dataDir: testDataDir, holder: suiteHolder, createSystemUser: true })
