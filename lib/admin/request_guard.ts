// Which requests the admin page answers: those addressed to it by its own name, sent by its own
// page or by no page at all (curl, the address bar). A site the developer visits could otherwise
// read a token-less page on 127.0.0.1 by pointing its own name at 127.0.0.1 (DNS rebinding: the
// browser then sends that name as Host, and treats the answers as its own), and a page of another
// origin, such as another local server's, could send it requests.
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Refusal {
  status: 403 | 421
  code: 'cross_origin' | 'misdirected_request'
  message: string
}

/** A server on every interface is reached by names it cannot know: there its token is the guard (one is required). */
const WILDCARDS = new Set(['0.0.0.0', '::'])
/** A name, or an IPv6 address in brackets, then maybe a port. */
const HOST_HEADER = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d+))?$/

/**
 * The check of a server listening at `address`, asked for as `host`: null when a request may be
 * answered, else why not. A loopback server is also `localhost`.
 */
export function requestGuard(host: string, address: AddressInfo, loopback: boolean): (request: IncomingMessage) => Refusal | null {
  const names = new Set([host, address.address].map((name) => (name.includes(':') ? `[${name}]` : name).toLowerCase()))
  if (loopback) names.add('localhost')
  const anyName = WILDCARDS.has(address.address)
  const port = String(address.port)
  const addressedHere = (header: string | undefined): boolean => {
    const match = HOST_HEADER.exec(header ?? '')
    return match !== null && names.has((match[1] as string).toLowerCase()) && (match[2] === undefined || match[2] === port)
  }
  return (request) => {
    const { host: header, origin } = request.headers
    if (!anyName && !addressedHere(header)) {
      return { status: 421, code: 'misdirected_request', message: `this admin page answers only requests addressed to ${[...names].join(' or ')}, port ${port}` }
    }
    // Browsers send Origin on cross-origin requests and Sec-Fetch-Site on all of theirs; 'none' is the address bar.
    const site = request.headers['sec-fetch-site']
    if ((origin !== undefined && !sameOrigin(origin, header)) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      return { status: 403, code: 'cross_origin', message: 'this admin page answers only its own page' }
    }
    return null
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  try {
    return new URL(origin).origin === new URL(`http://${host}`).origin
  } catch {
    return false // 'null' (a sandboxed or file: page) and anything malformed
  }
}
