import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

/** One node behind the balancer, by its index in the list `backends()` returns. */
export interface Backend {
  readonly port: number
  /** False once the test has killed it: the balancer sends it nothing new, like a failed health check. */
  readonly isUp: boolean
}

/** A connection the balancer forwarded, as it classified it from the request head. */
export interface RoutedConnection {
  /** Index of the backend it went to. */
  readonly backend: number
  readonly kind: 'websocket' | 'http'
  /** The request target of its first request, e.g. `/ws/<docId>?k=…`. */
  readonly target: string
  /** False once either side closed it (a killed node closes all of its connections). */
  readonly isOpen: boolean
}

/** A TCP load balancer without sticky sessions, in this process, on a free port. */
export interface Balancer {
  /** e.g. `http://127.0.0.1:41236` */
  readonly url: string
  /** Every connection forwarded so far, in the order they reached a backend. */
  readonly routed: readonly RoutedConnection[]
  /** The WebSocket connections still open, oldest first. */
  openWebSockets(): RoutedConnection[]
  /** Stops listening and drops every connection. */
  close(): Promise<void>
}

/** Requests have short heads; a connection that sends more before its blank line is still plain HTTP. */
const MAX_HEAD_BYTES = 16 * 1024
const HEAD_END = '\r\n\r\n'
const WEBSOCKET_UPGRADE = /\r\nupgrade:[ \t]*websocket[ \t]*\r\n/i

/**
 * Plain HTTP goes round robin over the live backends. WebSocket upgrades go to the live backend
 * with the fewest open WebSockets (lowest index on a tie), as HAProxy's `leastconn` does for
 * long-lived sessions: two pages opened one after the other land on different nodes, so a test
 * knows which node serves whom. The balancer reads each connection's request head before it
 * picks; after that it only copies bytes. A backend that refuses the connection before anything
 * was sent is skipped, as a balancer's redispatch does.
 */
export async function startBalancer(backends: () => readonly Backend[]): Promise<Balancer> {
  let nextHttp = 0
  const routed: Array<{ -readonly [K in keyof RoutedConnection]: RoutedConnection[K] }> = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  const openWebSocketsOn = (backend: number): number =>
    routed.filter((entry) => entry.backend === backend && entry.kind === 'websocket' && entry.isOpen).length

  /** Live backends in the order this connection should try them. */
  const candidates = (kind: RoutedConnection['kind']): number[] => {
    const live = backends().flatMap((backend, index) => (backend.isUp ? [index] : []))
    if (kind === 'websocket') {
      return live.sort((a, b) => openWebSocketsOn(a) - openWebSocketsOn(b) || a - b)
    }
    const start = nextHttp++ % Math.max(live.length, 1)
    return [...live.slice(start), ...live.slice(0, start)]
  }

  const forward = (client: Socket, head: Buffer, kind: RoutedConnection['kind'], target: string): void => {
    const order = candidates(kind)
    const attempt = (): void => {
      const backend = order.shift()
      const port = backend === undefined ? undefined : backends()[backend]?.port
      if (backend === undefined || port === undefined || client.destroyed) {
        client.destroy()
        return
      }
      const upstream = createConnection({ host: '127.0.0.1', port })
      track(upstream)
      let hasConnected = false
      upstream.once('connect', () => {
        hasConnected = true
        if (client.destroyed) {
          upstream.destroy()
          return
        }
        const entry = { backend, kind, target, isOpen: true }
        routed.push(entry)
        const end = (): void => {
          entry.isOpen = false
          client.destroy()
          upstream.destroy()
        }
        upstream.once('close', end)
        client.once('close', end)
        upstream.write(head)
        client.pipe(upstream)
        upstream.pipe(client)
      })
      upstream.once('error', () => {
        // Refused: nothing reached that node, so another one can take the request.
        if (!hasConnected) attempt()
        else upstream.destroy()
      })
    }
    attempt()
  }

  const server = createServer((client) => {
    track(client)
    client.on('error', () => client.destroy())
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf(HEAD_END)
      if (end === -1 && head.length < MAX_HEAD_BYTES) return
      client.off('data', onData)
      client.pause()
      const text = head.toString('latin1', 0, end === -1 ? head.length : end + 2)
      const target = /^[A-Z]+ (\S+) HTTP\/1\.1\r\n/.exec(text)?.[1] ?? ''
      forward(client, head, WEBSOCKET_UPGRADE.test(text) ? 'websocket' : 'http', target)
    }
    client.on('data', onData)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    openWebSockets: () => routed.filter((entry) => entry.kind === 'websocket' && entry.isOpen),
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}
