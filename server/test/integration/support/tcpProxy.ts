import { createConnection, createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'

/** A TCP proxy in front of a server, whose connections a test can break the way networks do. */
export interface TcpProxy {
  /** `ws://127.0.0.1:<port>/ws`-style base: the proxy's address with `path`. */
  url(scheme: 'ws' | 'http', path?: string): string
  /** Connections accepted so far. */
  readonly accepted: number
  /**
   * What a Wi-Fi switch or a sleeping laptop does: every client-side socket dies, and the
   * server-side socket of each stays open and silent (no FIN, no bytes) — half-open.
   */
  cutClientSide(): void
}

const proxies: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const close of proxies.splice(0)) await close()
})

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  const orphans = new Set<Socket>()
  let accepted = 0
  const server = createServer((client) => {
    accepted += 1
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    const pair = { client, upstream }
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const drop = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', () => {
      if (pairs.has(pair)) drop()
    })
    upstream.on('close', () => {
      if (pairs.has(pair)) drop()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  proxies.push(async () => {
    for (const { client, upstream } of pairs) {
      client.destroy()
      upstream.destroy()
    }
    for (const socket of orphans) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    url: (scheme, path = '') => `${scheme}://127.0.0.1:${port}${path}`,
    get accepted() {
      return accepted
    },
    cutClientSide() {
      for (const pair of [...pairs]) {
        pairs.delete(pair)
        pair.client.unpipe(pair.upstream)
        pair.upstream.unpipe(pair.client)
        // Nothing more is read from the server side: it stays open and silent until the server
        // itself gives up on it (its pings go unanswered).
        pair.upstream.pause()
        orphans.add(pair.upstream)
        pair.client.destroy()
      }
    },
  }
}
