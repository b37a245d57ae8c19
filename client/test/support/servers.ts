import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer } from '@tandem/server'
import { afterEach } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { parseConfig } from '../../../server/src/config.ts'

/**
 * Real servers on port 0, torn down after each test (STYLE.md 14): the Tandem server itself, a
 * TCP path that can go silent, and a bare WebSocket server that says what a test scripts.
 */

const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** `ws` as the page's WebSocket: Node 20 has none of its own. */
export const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket

/** A real Tandem server with a fresh LevelDB in a temp dir. */
export async function startTandem(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-client-test-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env })
  const running = await startServer(config)
  cleanups.push(() => running.close())
  return running
}

export interface CreatedDoc {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
}

export async function createDoc(baseUrl: string): Promise<CreatedDoc> {
  const response = await fetch(`${baseUrl}/api/docs`, { method: 'POST' })
  if (response.status !== 201) throw new Error(`POST /api/docs answered ${response.status}`)
  return (await response.json()) as CreatedDoc
}

/** A TCP port nothing listens on: connections to it are refused at once. */
export async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A TCP relay in front of a server whose path can go dead without closing anything. */
export interface SilentPath {
  /** `http://127.0.0.1:<port>`: connect here to go through the path. */
  readonly url: string
  /**
   * Drops every byte both ways from now on, keeping every socket open and accepting new ones:
   * what a half-open connection after a Wi-Fi switch or a laptop's sleep looks like to both ends.
   */
  goSilent(): void
  /** Passes bytes again (new connections work; bytes already dropped stay lost). */
  resume(): void
}

export async function startSilentPath(targetPort: number): Promise<SilentPath> {
  let isSilent = false
  const sockets = new Set<Socket>()
  const track = (socket: Socket): Socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    return socket
  }
  const server: Server = createServer((client) => {
    track(client)
    const upstream = track(connect(targetPort, '127.0.0.1'))
    client.on('data', (chunk) => {
      if (!isSilent) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!isSilent) client.write(chunk)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    goSilent: () => (isSilent = true),
    resume: () => (isSilent = false),
  }
}

/** A bare WebSocket server: `onConnection` scripts each connection; plain HTTP answers `httpStatus`. */
export async function startScriptedWebSocketServer(
  onConnection: (socket: WebSocket) => void,
  httpStatus = 200,
): Promise<{ readonly url: string; readonly connections: WebSocket[] }> {
  const connections: WebSocket[] = []
  const http = createHttpServer((_request, response) => {
    response.writeHead(httpStatus, { 'Content-Type': 'application/json' })
    response.end('{}')
  })
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket) => {
    connections.push(socket)
    socket.on('error', () => undefined)
    onConnection(socket)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const socket of connections) socket.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
  })
  const { port } = http.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, connections }
}
