// The admin page: a small read-only HTTP server over a started store. It serves the page
// (lib/admin/ui/), a JSON API the page pages through (server-side, so a store of millions of
// events loads as fast as an empty one), and one server-sent-event stream of live figures,
// computed once a second for every open page together.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { EventStoreError, InvalidArgumentError, StreamNotFoundError } from '../errors.js'
import type { EventStore, StoreStatus } from '../event_store.js'
import { describe } from '../expected_version.js'
import { packageRoot } from '../package_files.js'
import { holderName } from '../storage/holder.js'
import { ALL_STREAM } from '../types.js'
import { requestGuard } from './request_guard.js'

export interface AdminServerOptions {
  /**
   * Interface to listen on; default 127.0.0.1. Any other needs a token. Requests must name it as
   * Host (or `localhost` on loopback); a server on 0.0.0.0 or :: answers any Host.
   */
  host?: string
  /** Default 4000; 0 picks a free port. */
  port?: number
  /** When set, every request must carry it (Authorization: Bearer, or the cookie the page gets from ?token=). */
  token?: string
}

export interface AdminServer {
  /** Where the page is, e.g. http://127.0.0.1:4000/ */
  url: string
  close(): Promise<void>
}

const LIVE_EVERY_MS = 1000
const COOKIE = 'pg_eventstore_token'
const MAX_PAGE = 200
const uiDir = join(packageRoot, 'lib', 'admin', 'ui')
const assets: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' }
const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' }
/** The page runs only its own script and talks only to this server: event data cannot run as code. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Serves the admin page for `store` until closed. Read-only: nothing it serves writes.
 * @throws {InvalidArgumentError} code 'invalid_argument' for a non-loopback host without a token
 * @example
 * const admin = await startAdminServer(store, { port: 4000 })
 * console.log(`open ${admin.url}`)
 */
export async function startAdminServer(store: EventStore, options: AdminServerOptions = {}): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 4000
  const token = options.token === undefined || options.token === '' ? null : options.token
  if (typeof host !== 'string') throw new InvalidArgumentError(`host must be a string; got ${describe(host)}`)
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port must be 0 to 65535; got ${describe(port)}`)
  if (token !== null && typeof token !== 'string') throw new InvalidArgumentError(`token must be a string; got ${describe(token)}`)
  if (!LOOPBACK.has(host) && token === null) {
    throw new InvalidArgumentError(`the admin page on ${host} would be open to the network: give it a token (--token or PG_EVENTSTORE_UI_TOKEN)`)
  }
  const live = new LiveFeed(store)
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  // Attached once the port is known, before any connection is read.
  const guard = requestGuard(host, address, LOOPBACK.has(host))
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const refusal = guard(request)
    if (refusal) return sendJson(response, refusal.status, { error: { code: refusal.code, message: refusal.message } })
    handle(store, live, token, request, response).catch((error: unknown) => sendError(response, error))
  })
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}/`,
    async close() {
      live.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function handle(store: EventStore, live: LiveFeed, token: string | null, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://admin')
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: { code: 'method_not_allowed', message: 'the admin page is read-only' } })
  if (token !== null) {
    const given = url.searchParams.get('token')
    if (url.pathname === '/' && given !== null && sameSecret(given, token)) {
      // The page keeps the token as an HttpOnly cookie, and the address bar loses it.
      response.writeHead(303, { location: '/', 'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`, ...SECURITY_HEADERS })
      return void response.end()
    }
    if (!sameSecret(presentedToken(request) ?? '', token)) {
      return sendJson(response, 401, { error: { code: 'unauthorized', message: 'this admin page needs its token: open it as /?token=…' } })
    }
  }
  const asset = assets[url.pathname]
  if (asset) {
    const body = await readFile(join(uiDir, asset))
    response.writeHead(200, { 'content-type': types[asset.split('.').at(-1) as string] as string, ...SECURITY_HEADERS })
    return void response.end(body)
  }
  switch (url.pathname) {
    case '/api/streams':
      return sendJson(response, 200, await listStreams(store, url.searchParams))
    case '/api/events':
      return sendJson(response, 200, await readEvents(store, url.searchParams))
    case '/api/status':
      return sendJson(response, 200, { status: await store.status(), metrics: store.metrics() })
    case '/api/live':
      return live.add(response)
    default:
      return sendJson(response, 404, { error: { code: 'not_found', message: `nothing at ${url.pathname}` } })
  }
}

/** Compares digests, so the time taken tells nothing of the token, not even its length. */
function sameSecret(given: string, token: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(token))
}

function presentedToken(request: IncomingMessage): string | null {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')
  if (bearer) return bearer[1] as string
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === COOKIE) return decodeURIComponent(value.join('='))
  }
  return null
}

function integer(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name)
  if (raw === null || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`)
  return value
}

async function listStreams(store: EventStore, params: URLSearchParams) {
  const page = await store.paginateStreams({
    search: params.get('search') ?? '',
    page: integer(params, 'page', 1, 1, Number.MAX_SAFE_INTEGER),
    pageSize: integer(params, 'pageSize', 25, 1, MAX_PAGE),
    sortBy: 'createdAt',
    sortDir: 'desc',
  })
  const all = await store.streamInfo(ALL_STREAM)
  return { ...page, allVersion: all.streamVersion }
}

/** A page of a stream or of $all, either way from a position: -1 reads back from the end. */
async function readEvents(store: EventStore, params: URLSearchParams) {
  const streamId = params.get('stream') ?? ALL_STREAM
  const direction = params.get('direction') === 'forward' ? 'forward' : 'backward'
  const count = integer(params, 'count', 20, 1, MAX_PAGE)
  const from = integer(params, 'from', direction === 'forward' ? 1 : -1, -1, Number.MAX_SAFE_INTEGER)
  const info = await store.streamInfo(streamId)
  const read =
    streamId === ALL_STREAM
      ? direction === 'forward'
        ? store.readAllStreamsForward(from, count)
        : store.readAllStreamsBackward(from, count)
      : direction === 'forward'
        ? store.readStreamForward(streamId, from, count)
        : store.readStreamBackward(streamId, from, count)
  return { streamId, head: info.streamVersion, status: info.status, direction, events: await read }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS })
  response.end(JSON.stringify(body))
}

function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) return void response.destroy()
  if (error instanceof StreamNotFoundError) return sendJson(response, 404, { error: { code: error.code, message: error.message } })
  if (error instanceof InvalidArgumentError) return sendJson(response, 400, { error: { code: error.code, message: error.message } })
  const code = error instanceof EventStoreError ? error.code : 'internal'
  sendJson(response, 503, { error: { code, message: (error as Error)?.message ?? String(error) } })
}

/** What every open page hears each second: enough to chart throughput and lag. */
export interface LiveFigures {
  at: number
  /** The last global position: events per second across every process is its rate. */
  allVersion: number
  /** This store's own appends and events appended since it started. */
  appends: number
  eventsAppended: number
  writerQueued: number
  /** With who holds each, as the CLI names it. */
  subscriptions: (StoreStatus['subscriptions'][number] & { holderName: string | null })[]
  /** The store's latest warnings and errors. */
  reports: StoreStatus['recentReports']
}

/** One timer for all open pages; it runs only while a page listens. */
class LiveFeed {
  readonly #store: EventStore
  readonly #clients = new Set<ServerResponse>()
  #timer: NodeJS.Timeout | null = null
  #ticking = false

  constructor(store: EventStore) {
    this.#store = store
  }

  add(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', ...SECURITY_HEADERS })
    response.write('retry: 2000\n\n')
    this.#clients.add(response)
    response.on('close', () => {
      this.#clients.delete(response)
      if (this.#clients.size === 0) this.#stop()
    })
    this.#timer ??= setInterval(() => void this.#tick(), LIVE_EVERY_MS)
    void this.#tick()
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return // a slow database skips a second rather than piling up queries
    this.#ticking = true
    try {
      const [status, all] = await Promise.all([this.#store.status(), this.#store.streamInfo(ALL_STREAM)])
      const metrics = this.#store.metrics()
      const figures: LiveFigures = {
        at: Date.now(),
        allVersion: all.streamVersion,
        appends: metrics.counters.appends,
        eventsAppended: metrics.counters.eventsAppended,
        writerQueued: status.writer.queued,
        subscriptions: status.subscriptions.map((s) => ({ ...s, holderName: s.holder ? holderName(s.holder) : null })),
        reports: status.recentReports,
      }
      const frame = `data: ${JSON.stringify(figures)}\n\n`
      for (const client of this.#clients) client.write(frame)
    } catch (error) {
      const frame = `event: failure\ndata: ${JSON.stringify({ message: (error as Error)?.message ?? String(error) })}\n\n`
      for (const client of this.#clients) client.write(frame)
    } finally {
      this.#ticking = false
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  close(): void {
    this.#stop()
    for (const client of this.#clients) client.end()
    this.#clients.clear()
  }
}
