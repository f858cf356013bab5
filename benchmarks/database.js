// The benchmarks' PostgreSQL: DATABASE_URL, else the embedded server in .pg-eventstore/.
// Benchmarks import dist/, as users do.
import { acquireEmbeddedServer } from '../dist/lib/embedded/server.js'

export async function benchmarkDatabase() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, release: async () => {} }
  const server = await acquireEmbeddedServer({ dataDir: '.pg-eventstore', createSystemUser: true })
  return { url: server.url, release: () => server.release() }
}

export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

export const progress = (text) => process.stderr.write(`\r\x1b[K${text}`)
