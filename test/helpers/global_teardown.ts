// tap `after`: releases the run's hold on the embedded server, which then stops.
import { acquireEmbeddedServer } from '../../lib/embedded/server.js'
import { suiteHolder, testDataDir } from './server.js'

if (!process.env.DATABASE_URL) {
  const server = await acquireEmbeddedServer({ dataDir: testDataDir, holder: suiteHolder, createSystemUser: true })
  await server.release()
}
