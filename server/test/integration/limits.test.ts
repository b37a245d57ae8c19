import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createDoc, eventually } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

function connect(
  url: string,
): Promise<{ socket: WebSocket | null; status: number; retryAfter: string | null }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url)
    socket.on('error', () => undefined)
    socket.on('open', () => resolve({ socket, status: 101, retryAfter: null }))
    socket.on('unexpected-response', (_request, response) =>
      resolve({
        socket: null,
        status: response.statusCode ?? 0,
        retryAfter: response.headers['retry-after'] ?? null,
      }),
    )
  })
}

describe('per-IP connection budget', () => {
  it('[R30][R34] connections past MAX_CONNECTIONS_PER_IP get 429 with Retry-After, on every transport', async () => {
    const server = await startTestServer({ MAX_CONNECTIONS_PER_IP: '2' })
    const doc = await createDoc(server.url)
    const url = `${server.wsUrl}/${doc.id}?k=${doc.editToken}`
    const first = await connect(url)
    const second = await connect(url)
    expect([first.status, second.status]).toEqual([101, 101])
    const third = await connect(url)
    expect(third).toMatchObject({ status: CLOSE_REASONS.tooManyRequests.status, retryAfter: '10' })
    const stream = await fetch(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    expect(stream.status).toBe(429)
    expect(await stream.json()).toEqual({ error: CLOSE_REASONS.tooManyRequests.text, code: 4429 })
    const poll = await fetch(`${server.url}/api/docs/${doc.id}/lp?k=${doc.viewToken}`, { method: 'POST' })
    expect(poll.status).toBe(429)
    // Refused attempts did not use up the budget; a closed connection gives its slot back.
    first.socket?.close()
    await eventually(async () => expect((await connect(url)).status).toBe(101))
    second.socket?.close()
  })

  it('[R30] document reads and creation are not connections and stay available', async () => {
    const server = await startTestServer({ MAX_CONNECTIONS_PER_IP: '1' })
    const doc = await createDoc(server.url)
    const held = await connect(`${server.wsUrl}/${doc.id}?k=${doc.editToken}`)
    expect(held.status).toBe(101)
    expect((await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).status).toBe(200)
    expect((await fetch(`${server.url}/api/docs`, { method: 'POST' })).status).toBe(201)
    held.socket?.close()
  })
})
