// The admin page in a real browser: headless Chromium from Debian (/usr/bin/chromium, which
// .ci/run installs when missing) driven by playwright-core. ADMIN_SCREENSHOT=file.png saves
// a picture of the page at the end (how the README's was made).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser, chromium, type Page } from 'playwright-core'
import t from 'tap'
import { startAdminServer } from '../../lib/admin/server.js'
import { startStore } from '../helpers/database.js'
import { makeEvents } from '../helpers/events.js'
import { Inbox } from '../helpers/inbox.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const TOKEN = 'test-token-7f3a'
const HOSTILE = { note: '<script>window.__pwned = 1</script>', picture: '<img src=x onerror="window.__pwned = 2">' }

async function launch(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (bash .ci/run does)`)
  // Playwright gives it a fresh profile; the flags keep it off this machine's closed network.
  // attacker.test stands for a site whose name its owner rebound to 127.0.0.1.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP attacker.test 127.0.0.1', ...extraArgs],
  })
}

async function lagShown(page: Page, name: string): Promise<number> {
  return Number(await page.locator(`tr[data-name="${name}"] .lag-events`).textContent({ timeout: 10_000 }))
}

async function until(page: Page, check: () => Promise<boolean>, what: string, within = 15_000): Promise<void> {
  const deadline = Date.now() + within
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await page.waitForTimeout(100)
  }
}

t.test('the admin page in Chromium', async (t) => {
  const store = await startStore(t, { workers: 2 })
  for (let i = 0; i < 30; i += 1) await store.appendToStream(`order-${i}`, 0, makeEvents(2))
  await store.appendToStream('customer-hostile', 0, [{ eventType: 'ProfileChanged', data: HOSTILE, metadata: { source: '<b>bold?</b>' } }])
  const admin = await startAdminServer(store, { port: 0, token: TOKEN })
  t.teardown(() => admin.close())

  await t.test('a request without the token, or with a wrong one, is refused', async (t) => {
    t.equal((await fetch(admin.url)).status, 401)
    t.equal((await fetch(`${admin.url}api/streams`)).status, 401)
    t.equal((await fetch(`${admin.url}api/streams`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
    t.equal((await fetch(`${admin.url}?token=wrong`)).status, 401)
    t.equal((await fetch(`${admin.url}api/streams`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
    t.equal((await fetch(`${admin.url}api/streams`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405, 'read-only')
  })

  await t.test('hostile or wrong parameters get a 4xx with the error code, never a 5xx', async (t) => {
    const get = async (path: string) => {
      const response = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      return { status: response.status, body: (await response.json()) as { error?: { code: string } } }
    }
    t.match(await get('api/events?stream=nope'), { status: 404, body: { error: { code: 'stream_not_found' } } })
    t.match(await get('api/events?stream=order-1&count=abc'), { status: 400, body: { error: { code: 'invalid_argument' } } })
    t.match(await get('api/events?stream=order-1&count=100000'), { status: 400, body: { error: { code: 'invalid_argument' } } })
    t.match(await get(`api/events?stream=${'x'.repeat(5000)}`), { status: 400, body: { error: { code: 'invalid_argument' } } })
    t.match(await get('api/streams?page=-1'), { status: 400 })
    t.match(await get(`api/streams?search=${encodeURIComponent("%' OR 1=1 --")}`), { status: 200, body: { totalEntries: 0 } })
    t.match(await get('api/nothing'), { status: 404 })
  })

  const browser = await launch()
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } })
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  page.on('dialog', (dialog) => {
    pageErrors.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  await page.goto(`${admin.url}?token=${TOKEN}`)

  await t.test('the page loads, goes live, and lists streams newest first', async (t) => {
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10_000 })
    t.equal(new URL(page.url()).search, '', 'the token left the address bar')
    await page.locator('.stream-link[data-stream="customer-hostile"]').waitFor()
    t.match(await page.locator('#streams-page').textContent(), /^1 \/ 2 \(31\)$/, '31 streams, 25 a page')
  })

  await t.test('a stream is found by search and its events are shown', async (t) => {
    await page.fill('#search', 'order-1')
    await until(page, async () => (await page.locator('#streams li').count()) === 11, 'order-1 and order-10…19 are listed')
    await page.click('.stream-link[data-stream="order-17"]')
    await page.locator('#events-title', { hasText: 'order-17' }).waitFor()
    await until(page, async () => (await page.locator('#events li').count()) === 2, 'its two events show')
    t.same(await page.locator('#events li').evaluateAll((items) => items.map((item) => (item as unknown as { dataset: Record<string, string> }).dataset.eventNumber)), ['2', '1'], 'newest first')
  })

  await t.test('$all pages both ways', async (t) => {
    await page.click('#all-stream')
    await until(page, async () => (await page.locator('#events li').first().getAttribute('data-event-number')) === '61', 'the newest of $all shows')
    await page.click('#events-older')
    await until(page, async () => (await page.locator('#events li').first().getAttribute('data-event-number')) === '41', 'the next older page')
    await page.click('#events-oldest')
    await until(page, async () => (await page.locator('#events li').last().getAttribute('data-event-number')) === '1', 'the first page')
    await page.click('#events-newer')
    await until(page, async () => (await page.locator('#events li').last().getAttribute('data-event-number')) === '21', 'one page newer')
    t.pass('older, oldest and newer each moved by one page')
  })

  await t.test('event data is shown as text, never run as HTML', async (t) => {
    await page.fill('#search', 'hostile')
    await page.click('.stream-link[data-stream="customer-hostile"]')
    // The list shows the stream once its event is there (the page before may still be showing).
    const event = page.locator('#events li', { hasText: 'ProfileChanged' })
    await event.waitFor()
    const data = event.locator('pre.event-data')
    t.match(await data.textContent(), /<script>window.__pwned = 1<\/script>/)
    t.match(await data.textContent(), /<img src=x onerror=/)
    t.match(await event.locator('pre.event-metadata').textContent(), /<b>bold\?<\/b>/)
    t.equal(await page.locator('#events img, #events script, #events b').count(), 0, 'no element made from event data')
    t.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran')
  })

  await t.test('a live append appears without reload', async (t) => {
    await store.appendToStream('customer-hostile', 1, [{ eventType: 'AppendedWhileWatching', data: { live: true } }])
    await page.locator('#events li .event-type', { hasText: 'AppendedWhileWatching' }).waitFor({ timeout: 10_000 })
    t.pass('the new event is on the page')
  })

  await t.test("a slow subscription's lag rises, then falls when it catches up", async (t) => {
    const inbox = new Inbox()
    await store.subscribeToAllStreams('slow-projector', inbox.subscriber, { bufferSize: 100 })
    await inbox.receive('subscribed')
    const held = await inbox.receiveEvents(62)
    await until(page, async () => (await lagShown(page, 'slow-projector')) >= 62, 'the page shows the lag of the unacked events')
    t.ok((await lagShown(page, 'slow-projector')) >= 62, 'lag rose')
    inbox.messages.at(-1)?.subscription.ack(held)
    await until(page, async () => (await lagShown(page, 'slow-projector')) === 0, 'the lag falls to 0 once acked')
    t.pass('lag fell')
  })

  await t.test('the throughput chart draws', async (t) => {
    const appending = (async () => {
      for (let i = 0; i < 20; i += 1) {
        await store.appendToStream('burst', 'any_version', makeEvents(5))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    await appending
    await until(page, async () => Number(await page.locator('#events-rate').textContent()) > 0 || (await page.locator('#events-line').getAttribute('points'))!.split(' ').length > 2, 'a rate was charted')
    const points = (await page.locator('#events-line').getAttribute('points'))?.split(' ') ?? []
    t.ok(points.length >= 2, `${points.length} points on the events line`)
    const heights = points.map((point) => Number(point.split(',')[1]))
    t.ok(new Set(heights).size > 1, 'the line is not flat: a burst shows')
    t.ok(((await page.locator('#lag-line').getAttribute('points')) ?? '').split(' ').length >= 2, 'the lag line is drawn')
    const box = await page.locator('#throughput').boundingBox()
    t.ok(box && box.width > 100 && box.height > 50, 'the chart has room on the page')
  })

  await t.test("the store's warnings and errors show, as text", async (t) => {
    const failing = await store.subscribeToAllStreams('breaks', async (message) => {
      if (message.type === 'events') throw new Error('<img src=x onerror="window.__pwned = 3">')
    })
    await failing.closed
    const report = page.locator('#reports li.report-error', { hasText: 'a subscriber of "breaks" failed' })
    await report.waitFor({ timeout: 10_000 })
    t.match(await report.textContent(), /subscription.*a subscriber of "breaks" failed.*<img src=x onerror=/)
    t.equal(await page.locator('#reports img').count(), 0, 'the message is text')
    t.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined)
  })

  if (process.env.ADMIN_SCREENSHOT) await page.screenshot({ path: process.env.ADMIN_SCREENSHOT, fullPage: true })
  t.same(pageErrors, [], 'no script error and no dialog on the page')
})

/** The status of the next answer to `path` by the server on `port`: Chromium hides a failed cross-origin answer from the page and from Playwright alike. */
function nextAnswer(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const seen = (message: unknown): void => {
      const { request, response } = message as { request: IncomingMessage; response: ServerResponse }
      if (request.socket.localPort !== port || request.url !== path) return
      unsubscribe('http.server.response.finish', seen)
      resolve(response.statusCode)
    }
    subscribe('http.server.response.finish', seen)
  })
}

async function pageFetch(page: Page, url: string): Promise<{ status: number; body: string } | 'failed'> {
  return page.evaluate(async (url) => {
    try {
      const response = await fetch(url)
      return { status: response.status, body: await response.text() }
    } catch {
      return 'failed' as const
    }
  }, url)
}

t.test('in Chromium, only the page itself reads a token-less admin page', async (t) => {
  const store = await startStore(t)
  const secret = 'secret-9d1c'
  await store.appendToStream(secret, 0, [{ eventType: 'Noted', data: { note: secret } }])
  const admin = await startAdminServer(store, { port: 0 })
  t.teardown(() => admin.close())
  const port = Number(new URL(admin.url).port)
  // Chromium itself keeps public pages from loopback (Local Network Access); other browsers do
  // not, and a user may let a page through: off, so that what is tested is the server's refusal.
  const browser = await launch(['--disable-features=LocalNetworkAccessChecks'])
  t.teardown(() => browser.close())

  await t.test('the page works at 127.0.0.1 and at localhost', async (t) => {
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const page = await browser.newPage()
      await page.goto(`${origin}/`)
      await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10_000 })
      await page.locator(`.stream-link[data-stream="${secret}"]`).waitFor()
      t.pass(`live, with the streams, at ${origin}`)
      await page.close()
    }
  })

  await t.test('a page whose name was rebound to 127.0.0.1 reads nothing', async (t) => {
    const page = await browser.newPage()
    const rebound = `http://attacker.test:${port}`
    // Its own server sent the page; then its name led to 127.0.0.1, port and all: same origin.
    await page.route(`${rebound}/`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>a site</title>' }))
    await page.goto(`${rebound}/`)
    await page.unrouteAll()
    const answer = nextAnswer(port, '/api/streams')
    const read = await pageFetch(page, `${rebound}/api/streams`)
    t.equal(await answer, 421, 'the server refused it')
    t.match(read, { status: 421 }, 'the page was told so')
    t.notOk(JSON.stringify(read).includes(secret), 'and got no event data')
    await page.close()
  })

  await t.test('a page of another origin reads nothing', async (t) => {
    const site = createServer((_request, response) => response.end('<!doctype html><title>another site</title>'))
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => site.close(() => resolve())))
    const sitePort = (site.address() as AddressInfo).port
    // The same address on another port is the same site (its cookies go along); another name is not.
    for (const origin of [`http://127.0.0.1:${sitePort}`, `http://attacker.test:${sitePort}`]) {
      const page = await browser.newPage()
      await page.goto(`${origin}/`)
      const answer = nextAnswer(port, '/api/streams')
      const read = await pageFetch(page, `${admin.url}api/streams`)
      t.equal(await answer, 403, `the server refused the page at ${origin}`)
      t.equal(read, 'failed', 'and the page could not read the answer')
      await page.close()
    }
  })
})
