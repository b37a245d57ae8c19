import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.ts'
import WebSocket from 'ws'
import { createDoc, eventually } from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

type Line = Record<string, unknown> & { msg: string }

/** A WebSocket as if forwarded by a proxy for `client`: its status, and the socket if it opened. */
function connectAs(url: string, client: string): Promise<{ status: number; socket: WebSocket | null }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: { 'x-forwarded-for': client } })
    socket.on('error', () => undefined)
    socket.on('open', () => resolve({ status: 101, socket }))
    socket.on('unexpected-response', (_request, response) =>
      resolve({ status: response.statusCode ?? 0, socket: null }),
    )
  })
}

/** Opens a long-poll session as if forwarded for `client`; its status. */
async function openPollAs(server: TestServer, docId: string, token: string, client: string): Promise<number> {
  const response = await fetch(`${server.url}/api/docs/${docId}/lp?k=${token}`, {
    method: 'POST',
    headers: { 'x-forwarded-for': client },
  })
  await response.body?.cancel()
  return response.status
}

async function logged(env: Record<string, string>): Promise<{ server: TestServer; lines: () => Line[] }> {
  const raw: string[] = []
  const server = await startTestServer(
    { LOG_LEVEL: 'info', MAX_CONNECTIONS_PER_IP: '1', ...env },
    { logStream: { write: (line) => void raw.push(line) } },
  )
  return { server, lines: () => raw.map((line) => JSON.parse(line) as Line) }
}

/** The client address in the request log line of a `POST /api/docs` sent with this X-Forwarded-For. */
async function loggedAddress(server: TestServer, lines: () => Line[], client: string): Promise<unknown> {
  const creations = (): Line[] =>
    lines().filter(
      (line) => line.msg === 'request completed' && (line.req as { path?: string }).path === '/api/docs',
    )
  const before = creations().length
  const created = await fetch(`${server.url}/api/docs`, {
    method: 'POST',
    headers: { 'x-forwarded-for': client },
  })
  expect(created.status).toBe(201)
  await eventually(() => expect(creations()).toHaveLength(before + 1))
  return (creations().at(-1)?.req as { ip?: string }).ip
}

describe('TRUSTED_PROXIES', () => {
  it('[R68][R30] behind a trusted proxy, each forwarded client has its own per-IP budget and is logged as itself', async () => {
    const { server, lines } = await logged({ TRUSTED_PROXIES: '127.0.0.1' })
    const doc = await createDoc(server.url)
    const url = `${server.wsUrl}/${doc.id}?k=${doc.editToken}`
    const first = await connectAs(url, '203.0.113.1')
    const second = await connectAs(url, '203.0.113.2')
    expect([first.status, second.status]).toEqual([101, 101])
    // The budget is the forwarded client's: the first client's second connection is refused…
    expect((await connectAs(url, '203.0.113.1')).status).toBe(429)
    expect(await openPollAs(server, doc.id, doc.editToken, '203.0.113.1')).toBe(429)
    // …another client's is not, on every transport; the nearest untrusted hop is the client.
    expect(await openPollAs(server, doc.id, doc.editToken, '198.51.100.9, 203.0.113.3')).toBe(201)
    expect(await openPollAs(server, doc.id, doc.editToken, '203.0.113.3')).toBe(429)
    first.socket?.close()
    await eventually(async () => {
      const again = await connectAs(url, '203.0.113.1')
      expect(again.status).toBe(101)
      again.socket?.close()
    })
    second.socket?.close()
    expect(await loggedAddress(server, lines, '192.0.2.44')).toBe('192.0.2.44')
  })

  it('[R68][R30] without TRUSTED_PROXIES, X-Forwarded-For is ignored: one peer is one client whatever it claims', async () => {
    const { server, lines } = await logged({})
    const doc = await createDoc(server.url)
    const url = `${server.wsUrl}/${doc.id}?k=${doc.editToken}`
    const first = await connectAs(url, '203.0.113.1')
    expect(first.status).toBe(101)
    expect((await connectAs(url, '203.0.113.2')).status).toBe(429)
    expect(await openPollAs(server, doc.id, doc.editToken, '203.0.113.3')).toBe(429)
    first.socket?.close()
    expect(await loggedAddress(server, lines, '192.0.2.44')).toBe('127.0.0.1')
  })

  it('[R68] a proxy that is not listed is not believed', async () => {
    const { server } = await logged({ TRUSTED_PROXIES: '10.0.0.0/8' })
    const doc = await createDoc(server.url)
    const url = `${server.wsUrl}/${doc.id}?k=${doc.editToken}`
    const first = await connectAs(url, '203.0.113.1')
    expect(first.status).toBe(101)
    expect((await connectAs(url, '203.0.113.2')).status).toBe(429)
    first.socket?.close()
  })

  it('[R68] an entry that is neither an address, a CIDR nor a proxy-addr name stops the server at startup', async () => {
    await expect(startTestServer({ TRUSTED_PROXIES: '127.0.0.1,proxy.example' })).rejects.toThrow(ConfigError)
    await expect(startTestServer({ TRUSTED_PROXIES: '10.0.0.0/33' })).rejects.toThrow(/TRUSTED_PROXIES/)
  })
})
