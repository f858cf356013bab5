// What a DNS-rebinding or cross-origin page would send, sent as curl would: node:http sets any
// Host. The admin page must refuse it, token or not, and say nothing of the store.
import { request } from 'node:http'
import t, { type Test } from 'tap'
import { type AdminServer, startAdminServer } from '../../lib/admin/server.js'
import { startStore } from '../helpers/database.js'

const TOKEN = 'guard-token-51c2'
/** In a stream id and in event data: a refused answer must not hold it. */
const SECRET = 'secret-3f9e'
const PATHS = ['/', '/app.js', '/api/streams', '/api/events', '/api/status', '/api/live']

interface Answer {
  status: number
  code: string | undefined
  body: string
}

/** A GET with exactly these headers, Host too (none when not given). The live feed's answer is its first chunk. */
function get(server: AdminServer, path: string, headers: Record<string, string>): Promise<Answer> {
  const { hostname, port } = new URL(server.url)
  return new Promise((resolve, reject) => {
    const sent = request({ host: hostname.replace(/^\[|\]$/g, ''), port, path, headers, setHost: false }, (response) => {
      const chunks: Buffer[] = []
      const answer = (): void => {
        const body = Buffer.concat(chunks).toString()
        const json = (response.headers['content-type'] ?? '').startsWith('application/json') ? (JSON.parse(body) as { error?: { code: string } }) : {}
        resolve({ status: response.statusCode as number, code: json.error?.code, body })
      }
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        if (response.headers['content-type'] === 'text/event-stream') {
          answer()
          sent.destroy()
        }
      })
      response.on('end', answer)
    })
    sent.on('error', reject)
    sent.end()
  })
}

async function refused(t: Test, server: AdminServer, path: string, headers: Record<string, string>, status: number, code: string): Promise<void> {
  const answer = await get(server, path, headers)
  const what = `${path} with ${JSON.stringify(headers)}`
  t.match(answer, { status, code }, `${what}: ${status} ${code}`)
  t.notOk(answer.body.includes(SECRET), `${what}: no event data`)
}

async function answered(t: Test, server: AdminServer, headers: Record<string, string>): Promise<void> {
  const answer = await get(server, '/api/streams', headers)
  t.equal(answer.status, 200, `answered with ${JSON.stringify(headers)}`)
  t.ok(answer.body.includes(SECRET), 'with the events')
}

t.test('the admin page answers only requests addressed to it, from its own page', async (t) => {
  const store = await startStore(t)
  await store.appendToStream(`${SECRET}-1`, 0, [{ eventType: 'Noted', data: { note: SECRET } }])
  const bearer = { authorization: `Bearer ${TOKEN}` }

  for (const token of [undefined, TOKEN]) {
    await t.test(`on 127.0.0.1, ${token ? 'with' : 'without'} a token`, async (t) => {
      const admin = await startAdminServer(store, { port: 0, token })
      t.teardown(() => admin.close())
      const port = new URL(admin.url).port
      const auth = token ? bearer : {}

      for (const path of PATHS) await refused(t, admin, path, { ...auth, host: `attacker.example:${port}` }, 421, 'misdirected_request')
      for (const host of ['attacker.example', '127.0.0.1:1', `localhost.attacker.example:${port}`, `127.0.0.1.attacker.example:${port}`, `[::1]:${port}`, '']) {
        await refused(t, admin, '/api/events', { ...auth, host }, 421, 'misdirected_request')
      }
      const noHost = await get(admin, '/api/streams', auth)
      t.ok(noHost.status >= 400 && noHost.status < 500 && !noHost.body.includes(SECRET), `no Host: ${noHost.status}, no event data`)

      for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'localhost', `LocalHost:${port}`]) await answered(t, admin, { ...auth, host })

      const here = `127.0.0.1:${port}`
      for (const path of PATHS) {
        await refused(t, admin, path, { ...auth, host: here, origin: 'http://attacker.example' }, 403, 'cross_origin')
        await refused(t, admin, path, { ...auth, host: here, 'sec-fetch-site': 'cross-site' }, 403, 'cross_origin')
      }
      for (const origin of ['http://127.0.0.1:1', `http://localhost:${port}`, `https://${here}`, 'null']) {
        await refused(t, admin, '/api/events', { ...auth, host: here, origin }, 403, 'cross_origin')
      }
      await refused(t, admin, '/api/events', { ...auth, host: here, 'sec-fetch-site': 'same-site' }, 403, 'cross_origin')

      await answered(t, admin, { ...auth, host: here, origin: `http://${here}` })
      await answered(t, admin, { ...auth, host: `localhost:${port}`, origin: `http://localhost:${port}` })
      await answered(t, admin, { ...auth, host: here, 'sec-fetch-site': 'same-origin' })
      await answered(t, admin, { ...auth, host: here, 'sec-fetch-site': 'none' })
      if (token) t.match(await get(admin, '/api/streams', { host: here }), { status: 401, code: 'unauthorized' }, 'the right Host does not stand for the token')
    })
  }

  await t.test('on ::1, the address in brackets', async (t) => {
    const admin = await startAdminServer(store, { host: '::1', port: 0 })
    t.teardown(() => admin.close())
    const port = new URL(admin.url).port
    for (const host of [`[::1]:${port}`, '[::1]', `localhost:${port}`]) await answered(t, admin, { host })
    for (const host of [`::1:${port}`, `[::2]:${port}`, `127.0.0.1:${port}`, `attacker.example:${port}`]) {
      await refused(t, admin, '/api/streams', { host }, 421, 'misdirected_request')
    }
    await refused(t, admin, '/api/streams', { host: `[::1]:${port}`, origin: 'http://attacker.example' }, 403, 'cross_origin')
  })

  await t.test('on localhost, by that name or the address it got', async (t) => {
    const admin = await startAdminServer(store, { host: 'localhost', port: 0 })
    t.teardown(() => admin.close())
    const { host, port } = new URL(admin.url)
    await answered(t, admin, { host })
    await answered(t, admin, { host: `localhost:${port}` })
    await refused(t, admin, '/api/streams', { host: `attacker.example:${port}` }, 421, 'misdirected_request')
  })

  await t.test('on every interface: any Host with the token, never another origin', async (t) => {
    const admin = await startAdminServer(store, { host: '0.0.0.0', port: 0, token: TOKEN })
    t.teardown(() => admin.close())
    const port = new URL(admin.url).port
    const host = `attacker.example:${port}`
    await answered(t, admin, { ...bearer, host })
    t.match(await get(admin, '/api/streams', { host }), { status: 401, code: 'unauthorized' }, 'its token guards it')
    await refused(t, admin, '/api/streams', { ...bearer, host: `127.0.0.1:${port}`, origin: 'http://attacker.example' }, 403, 'cross_origin')
    await refused(t, admin, '/api/streams', { ...bearer, host, 'sec-fetch-site': 'cross-site' }, 403, 'cross_origin')
  })
})
