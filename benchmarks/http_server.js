// The service of the "HTTP service" workload (http_service.js), run as a child process:
// node:http, one route, POST { streamId, events } → an append with 'any_version' → 201.
// `store` appends through the event store; `baseline` runs the raw baseline's one statement
// (baseline.js) on a plain postgres.js pool of 10. Tells its port to the parent over IPC and
// stops (dropping its schema) when the parent sends 'stop'.
import { createServer } from 'node:http'
import postgres from 'postgres'
import { EventStore } from '../dist/lib/index.js'
import { createBaselineTables, rawAppend } from './baseline.js'

const [mode, url] = process.argv.slice(2)

async function openService() {
  if (mode === 'store') {
    const config = { url, schema: 'bench_http' }
    await EventStore.drop(config)
    await EventStore.init(config)
    const store = await EventStore.start(config)
    return {
      append: (streamId, events) => store.appendToStream(streamId, 'any_version', events),
      close: async () => {
        await store.stop()
        await EventStore.drop(config)
      },
    }
  }
  const schema = 'bench_http_raw'
  const sql = postgres(url, { max: 10, onnotice: () => {}, connection: { search_path: schema } })
  await createBaselineTables(sql, schema)
  return {
    append: (streamId, events) => rawAppend(sql, streamId, null, events),
    close: async () => {
      await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`)
      await sql.end()
    },
  }
}

const service = await openService()
const server = createServer((request, response) => {
  if (request.method !== 'POST') return void response.writeHead(405).end()
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', async () => {
    try {
      const { streamId, events } = JSON.parse(Buffer.concat(chunks).toString())
      await service.append(streamId, events)
      response.writeHead(201, { 'content-length': 0 }).end()
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error?.message ?? error))
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', async (message) => {
  if (message !== 'stop') return
  server.closeAllConnections()
  server.close()
  await service.close()
  process.exit(0)
})
