// "HTTP service, C connections": the store embedded in a plain node:http service (a child
// process, http_server.js) whose clients post 3-event appends with 'any_version' over C
// keep-alive connections, beside the same service running the raw baseline's one statement
// per append. Requests/s and p50/p99 latency as the clients see them.
import { fork } from 'node:child_process'
import { Agent, request } from 'node:http'
import { benchEvent, compare, timed } from './harness.js'

/** Starts a service child in `mode`; resolves to its port and a stop function. */
function startService(mode, url) {
  const child = fork(new URL('./http_server.js', import.meta.url), [mode, url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the ${mode} service exited with ${code}`)))
    child.once('message', ({ port }) =>
      resolve({
        port,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit')
            child.once('exit', done)
            child.send('stop')
          }),
      }),
    )
  })
}

function post(agent, port, body) {
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: '127.0.0.1', method: 'POST', path: '/append', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`))))
    })
    req.once('error', reject)
    req.end(body)
  })
}

/** C clients, each posting one append after another for `seconds` on its own keep-alive connection, to streams of its own. */
async function load(port, connections, seconds, tag) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  try {
    return await timed(async (time) => {
      const deadline = performance.now() + seconds * 1000
      let requests = 0
      await Promise.all(
        Array.from({ length: connections }, async (_, c) => {
          for (let i = 0; performance.now() < deadline; i += 1) {
            const body = JSON.stringify({ streamId: `${tag}-c${c}-s${i % 20}`, events: [benchEvent(0), benchEvent(1), benchEvent(2)] })
            await time(() => post(agent, port, body))
            requests += 1
          }
        }),
      )
      return { events: requests, operations: requests }
    })
  } finally {
    agent.destroy()
  }
}

export function httpWorkloads({ url, seconds, runs }) {
  return [10, 100].map((C) => ({
    name: `HTTP service, ${C} connections, 3-event appends with 'any_version'`,
    unit: 'requests/s',
    target: '≥ 0.9×',
    async run() {
      const [store, baseline] = await Promise.all([startService('store', url), startService('baseline', url)])
      try {
        let round = 0
        return await compare(
          this.name,
          () => load(store.port, C, seconds * 1.5, `r${(round += 1)}`),
          () => load(baseline.port, C, seconds * 1.5, `r${round}`),
          { runs },
        )
      } finally {
        await Promise.all([store.stop(), baseline.stop()])
      }
    },
  }))
}
