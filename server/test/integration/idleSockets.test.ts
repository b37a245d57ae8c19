import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { eventually } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

/** A raw TCP connection to the server, and whether the server has closed it. */
async function rawSocket(port: number): Promise<{ socket: Socket; isClosed: () => boolean }> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  let isClosed = false
  socket.on('close', () => (isClosed = true))
  await once(socket, 'connect')
  return { socket, isClosed: () => isClosed }
}

describe('connections that never ask for anything', () => {
  it('[R30] a socket that sends nothing, or one byte, is closed within 10 s of connecting', async () => {
    const server = await startTestServer()
    const silent = await rawSocket(server.port)
    const oneByte = await rawSocket(server.port)
    oneByte.socket.write('G')
    const startedAt = Date.now()
    await eventually(() => expect(silent.isClosed() && oneByte.isClosed()).toBe(true), 15_000)
    // Not at once: a slow client gets its 10 s.
    expect(Date.now() - startedAt).toBeGreaterThan(5_000)
    // A client that asks in time is served, and its keep-alive connection is not cut at 10 s.
    const response = await fetch(`${server.url}/healthz`)
    expect(response.status).toBe(200)
  }, 20_000)

  it('[R30] past MAX_CONNECTIONS new connections are closed at once; others are still served', async () => {
    const server = await startTestServer({ MAX_CONNECTIONS: '4' })
    const held = await Promise.all([1, 2, 3, 4].map(() => rawSocket(server.port)))
    const extra = await rawSocket(server.port)
    await eventually(() => expect(extra.isClosed()).toBe(true))
    for (const { socket } of held) socket.destroy()
    await eventually(async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200))
  })
})
