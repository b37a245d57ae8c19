import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createProxyServer } from 'http-proxy-3'

/** What the proxy does to traffic; each mode can be switched while connections are open. */
export interface ProxyModes {
  /** Refuse every WebSocket upgrade with HTTP 403, like a proxy that only speaks plain HTTP. */
  readonly blockUpgrades: boolean
  /**
   * Hold every `text/event-stream` response, headers included, until it ends, like a proxy that
   * buffers whole responses: the client sees nothing of a stream that stays open.
   */
  readonly bufferEventStreams: boolean
}

/** What the proxy did, so a test can show that its restriction really applied. */
export interface ProxyCounts {
  /** Upgrade requests answered with 403. */
  readonly refusedUpgrades: number
  /** Upgrades passed through to the server. */
  readonly upgrades: number
  /** Event streams held back; each reaches its client only when the server ends it, if ever. */
  readonly bufferedStreams: number
}

/** A reverse proxy in front of a Tandem server, in this process, on a free port. */
export interface RestrictiveProxy {
  /** e.g. `http://127.0.0.1:41235`: open pages here to go through the proxy. */
  readonly url: string
  readonly modes: ProxyModes
  readonly counts: ProxyCounts
  /** Switches modes; connections already through (an open WebSocket) are left alone. */
  set(modes: Partial<ProxyModes>): void
  /** Stops listening and drops every connection, upgraded ones included. */
  close(): Promise<void>
}

const PASS_THROUGH: ProxyModes = { blockUpgrades: false, bufferEventStreams: false }
const UPGRADE_REFUSAL_BODY = 'WebSockets are not allowed here.\n'
const UPGRADE_REFUSAL = [
  'HTTP/1.1 403 Forbidden',
  'Content-Type: text/plain',
  `Content-Length: ${Buffer.byteLength(UPGRADE_REFUSAL_BODY)}`,
  'Connection: close',
  '',
  UPGRADE_REFUSAL_BODY,
].join('\r\n')

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the response: a proxy sets its
 * own. Forwarding `transfer-encoding` beside a body we re-frame would corrupt it.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
])

/**
 * Starts a restrictive proxy forwarding to `target` with http-proxy-3. It handles responses itself
 * (`selfHandleResponse`) so it can decide per response, by its content type, whether to stream it
 * or hold it back.
 */
export async function startProxy(
  target: string,
  initial: Partial<ProxyModes> = {},
): Promise<RestrictiveProxy> {
  let modes: ProxyModes = { ...PASS_THROUGH, ...initial }
  const counts = { refusedUpgrades: 0, upgrades: 0, bufferedStreams: 0 }
  const sockets = new Set<Socket>()
  // Its own agent, so close() can also drop the connections it keeps open to the server.
  const agent = new Agent({ keepAlive: true })
  const proxy = createProxyServer({ target, agent, selfHandleResponse: true })

  proxy.on('proxyRes', (upstream, _request, response) => {
    const isEventStream = (upstream.headers['content-type'] ?? '').startsWith('text/event-stream')
    if (isEventStream && modes.bufferEventStreams) {
      counts.bufferedStreams += 1
      holdUntilEnd(upstream, response)
    } else {
      response.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, endToEnd(upstream.headers))
      upstream.pipe(response)
    }
    // The server's side broke off mid-response: break the client's too, rather than leave it
    // waiting. (A client going away is handled by http-proxy-3, which destroys the upstream request.)
    upstream.on('error', () => response.destroy())
  })

  // A request the server cannot answer is a 502, as from any proxy; an upgrade just drops.
  proxy.on('error', (_error, _request, responseOrSocket) => {
    if (!('writeHead' in responseOrSocket)) {
      responseOrSocket.destroy()
      return
    }
    if (responseOrSocket.headersSent) responseOrSocket.destroy()
    else responseOrSocket.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway')
  })

  const server = createServer((request, response) => proxy.web(request, response))
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (modes.blockUpgrades) {
      counts.refusedUpgrades += 1
      socket.end(UPGRADE_REFUSAL)
      return
    }
    counts.upgrades += 1
    proxy.ws(request, socket, head)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    get modes() {
      return modes
    },
    counts,
    set(next) {
      modes = { ...modes, ...next }
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        agent.destroy()
      })
    },
  }
}

/** Sends the whole response only once the server has ended it: what a buffering proxy does. */
function holdUntilEnd(upstream: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = []
  upstream.on('data', (chunk: Buffer) => chunks.push(chunk))
  upstream.on('end', () => {
    const body = Buffer.concat(chunks)
    const headers = { ...endToEnd(upstream.headers), 'content-length': String(body.length) }
    response.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, headers)
    response.end(body)
  })
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)))
}
