import { CLOSE_REASONS, decodeMessage, encodeMessage } from '@tandem/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type WebSocket from 'ws'
import * as Y from 'yjs'
import { SyncProvider, type SyncProviderOptions } from '../src/sync/SyncProvider.ts'
import type { ConnectionState } from '../src/sync/types.ts'
import { connectivity, memory, urlOf } from './support/scripted.ts'
import {
  NodeWebSocket,
  createDoc,
  deadPort,
  startScriptedWebSocketServer,
  startSilentPath,
  startTandem,
} from './support/servers.ts'

/**
 * The provider over real sockets: the `ws` client against real servers on port 0 — Tandem itself,
 * a TCP path that goes silent, a WebSocket server that never answers (SPEC R12, R26).
 */

const providers: SyncProvider[] = []

afterEach(() => {
  for (const provider of providers.splice(0)) provider.destroy()
})

/** Short timings, so each scenario takes well under a second or two. */
const FAST = {
  heartbeatIntervalMs: 50,
  silenceTimeoutMs: 300,
  firstMessageTimeoutMs: 500,
  reachabilityTimeoutMs: 500,
  backoff: { baseMs: 20, maxMs: 200 },
  probeBackoff: { baseMs: 60_000, maxMs: 60_000 },
} as const

function client(
  options: Partial<SyncProviderOptions> & Pick<SyncProviderOptions, 'baseUrl' | 'docId' | 'token'>,
): SyncProvider {
  const provider = new SyncProvider({
    doc: new Y.Doc(),
    WebSocketImpl: NodeWebSocket,
    fallbackMemory: memory(),
    connectivity: connectivity(),
    ...FAST,
    ...options,
  })
  providers.push(provider)
  return provider
}

function record(provider: SyncProvider): ConnectionState[] {
  const states: ConnectionState[] = [provider.status.connection]
  provider.onStatus(({ connection }) => {
    if (states.at(-1) !== connection) states.push(connection)
  })
  return states
}

const text = (provider: SyncProvider): string => provider.doc.getText('t').toString()

function framesOf(socket: WebSocket): Array<ReturnType<typeof decodeMessage>> {
  const frames: Array<ReturnType<typeof decodeMessage>> = []
  socket.on('message', (data: Buffer) => frames.push(decodeMessage(new Uint8Array(data))))
  return frames
}

describe('[R12] dead connections are found by the heartbeat', () => {
  it('[R12] a WebSocket server that goes silent after the sync is pinged, then the connection is closed and reconnected within the silence timeout, without falling back', async () => {
    const received: Array<Array<ReturnType<typeof decodeMessage>>> = []
    const server = await startScriptedWebSocketServer((socket) => {
      received.push(framesOf(socket))
      // Greets like Tandem (step 1, step 2), then never sends another byte: a half-open peer.
      socket.send(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }))
      socket.send(encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(new Y.Doc()) }))
    })
    const remembered = memory()
    const provider = client({ baseUrl: server.url, docId: 'd', token: 'e.x', fallbackMemory: remembered })
    await provider.whenSynced()
    const syncedAtMs = Date.now()
    const states = record(provider)

    await vi.waitFor(() => expect(server.connections).toHaveLength(2), { timeout: 3_000 })
    const detectedMs = Date.now() - syncedAtMs
    expect(detectedMs).toBeGreaterThanOrEqual(FAST.silenceTimeoutMs - 10)
    expect(detectedMs).toBeLessThan(FAST.silenceTimeoutMs + 1_000)
    expect(received[0]?.some((frame) => frame.type === 'ping')).toBe(true)
    expect(states).toContainEqual(expect.objectContaining({ kind: 'reconnecting' }))
    expect(provider.status.transport).toBe('websocket')
    expect(remembered.stored).toBeNull()
  })

  it('[R12] against a real Tandem server, pongs keep a quiet connection open well past the silence timeout', async () => {
    const tandem = await startTandem()
    const doc = await createDoc(tandem.url)
    const pongs: number[] = []
    class CountingSocket extends (NodeWebSocket as unknown as typeof WebSocket) {
      constructor(url: string) {
        super(url)
        this.on('message', (data: Buffer | ArrayBuffer) => {
          const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data)
          if (decodeMessage(bytes).type === 'pong') pongs.push(Date.now())
        })
      }
    }
    const provider = client({
      baseUrl: tandem.url,
      docId: doc.id,
      token: doc.editToken,
      WebSocketImpl: CountingSocket as unknown as typeof globalThis.WebSocket,
    })
    await provider.whenSynced()
    const states = record(provider)
    // Three silence timeouts without a single edit or presence change.
    await vi.waitFor(
      () => expect(pongs.length * FAST.heartbeatIntervalMs).toBeGreaterThan(3 * FAST.silenceTimeoutMs),
      {
        timeout: 5_000,
      },
    )
    expect(states).toEqual([{ kind: 'connected' }])
  })

  it('[R12] a path to a real server that goes dead (half-open TCP) is found within the silence timeout, shows offline, and edits typed meanwhile are saved once it is back', async () => {
    const tandem = await startTandem()
    const doc = await createDoc(tandem.url)
    const path = await startSilentPath(tandem.port)
    const remembered = memory()
    const writer = client({
      baseUrl: path.url,
      docId: doc.id,
      token: doc.editToken,
      fallbackMemory: remembered,
    })
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'before;')
    await vi.waitFor(() => expect(writer.status.save).toBe('saved'))
    const states = record(writer)

    path.goSilent()
    const silentAtMs = Date.now()
    writer.doc.getText('t').insert(7, 'while the path was dead;')
    await vi.waitFor(() => expect(writer.status.connection.kind).not.toBe('connected'), { timeout: 3_000 })
    expect(Date.now() - silentAtMs).toBeLessThan(FAST.silenceTimeoutMs + 500)
    // New attempts hang like the old connection, and so does plain HTTP: the network is down.
    await vi.waitFor(() => expect(writer.status.connection.kind).toBe('offline'), { timeout: 5_000 })
    expect(writer.status.save).toBe('saving')

    path.resume()
    await vi.waitFor(() => expect(writer.status.save).toBe('saved'), { timeout: 5_000 })
    expect(states.some((state) => state.kind === 'refused')).toBe(false)
    expect(writer.status.transport).toBe('websocket')
    expect(remembered.stored).toBeNull()
    const reader = client({ baseUrl: tandem.url, docId: doc.id, token: doc.editToken })
    await reader.whenSynced()
    expect(text(reader)).toBe('before;while the path was dead;')
  })

  it('[R12][R22] an SSE viewer stays connected on the server’s `: ping` comments alone, past its silence timeout', async () => {
    const tandem = await startTandem({ SSE_HEARTBEAT_MS: '1000' })
    const doc = await createDoc(tandem.url)
    const comments: number[] = []
    const frames: number[] = []
    // Watches the stream's bytes as they arrive, beside the transport's own reader.
    const fetchImpl: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (!urlOf(input).includes('/events') || response.body === null) return response
      const [mine, theirs] = response.body.tee()
      void (async () => {
        const decoder = new TextDecoder()
        const reader = mine.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          const textChunk = decoder.decode(value, { stream: true })
          if (textChunk.includes(': ping')) comments.push(Date.now())
          if (textChunk.includes('data:')) frames.push(Date.now())
        }
      })().catch(() => undefined)
      return new Response(theirs, response)
    }
    const viewer = client({
      baseUrl: tandem.url,
      docId: doc.id,
      token: doc.viewToken,
      mode: 'view',
      fetchImpl,
      receiveOnlySilenceTimeoutMs: 1_500,
    })
    await viewer.whenSynced()
    expect(viewer.status.transport).toBe('sse')
    const states = record(viewer)
    await vi.waitFor(() => expect(comments.length).toBeGreaterThanOrEqual(3), { timeout: 6_000 })
    // More than one silence timeout with no frame at all: only the comments kept it alive.
    expect(Date.now() - (frames.at(-1) ?? 0)).toBeGreaterThan(1_500)
    expect(states).toEqual([{ kind: 'connected' }])
  })
})

describe('[R26] a failed WebSocket falls back only when HTTP to the same server works', () => {
  it('[R26] WebSocket refused at the TCP level while HTTP works: falls back to long polling and syncs', async () => {
    const tandem = await startTandem()
    const doc = await createDoc(tandem.url)
    const blockedPort = await deadPort()
    /** WebSockets go to a port nobody listens on; plain HTTP reaches the server. */
    class BlockedSocket extends (NodeWebSocket as unknown as typeof WebSocket) {
      constructor(url: string) {
        const blocked = new URL(url)
        blocked.port = String(blockedPort)
        super(blocked)
        this.on('error', () => undefined)
      }
    }
    const remembered = memory()
    const writer = client({
      baseUrl: tandem.url,
      docId: doc.id,
      token: doc.editToken,
      WebSocketImpl: BlockedSocket as unknown as typeof globalThis.WebSocket,
      fallbackMemory: remembered,
    })
    await writer.whenSynced()
    expect(writer.status.transport).toBe('longpoll')
    expect(remembered.stored).toBe('longpoll')
    writer.doc.getText('t').insert(0, 'over long polling')
    await vi.waitFor(() => expect(writer.status.save).toBe('saved'), { timeout: 3_000 })
  })

  it('[R26] WebSocket and HTTP both unreachable: offline, retrying the WebSocket, never falling back', async () => {
    const port = await deadPort()
    const remembered = memory()
    const writer = client({
      baseUrl: `http://127.0.0.1:${port}`,
      docId: 'd',
      token: 'e.x',
      fallbackMemory: remembered,
    })
    const states = record(writer)
    await vi.waitFor(
      () => expect(states.filter((state) => state.kind === 'offline').length).toBeGreaterThanOrEqual(2),
      { timeout: 3_000 },
    )
    expect(writer.status.transport).toBe('websocket')
    expect(remembered.stored).toBeNull()
    expect(states.find((state) => state.kind === 'offline')).toMatchObject({
      detail: 'the server cannot be reached: network error',
    })
  })

  it('[R26][R55] a deleted document: the WebSocket upgrade refused with 404 is learned over HTTP, and it is final', async () => {
    const tandem = await startTandem()
    const doc = await createDoc(tandem.url)
    const deleted = await fetch(`${tandem.url}/api/docs/${doc.id}?k=${doc.editToken}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    const remembered = memory()
    const writer = client({
      baseUrl: tandem.url,
      docId: doc.id,
      token: doc.editToken,
      fallbackMemory: remembered,
    })
    await vi.waitFor(
      () => expect(writer.status.connection).toEqual({ kind: 'refused', reason: CLOSE_REASONS.docNotFound }),
      { timeout: 3_000 },
    )
    expect(remembered.stored).toBeNull()
  })

  it('[R12][R55] a document deleted while connected closes with 4404: final, no reconnect', async () => {
    const tandem = await startTandem()
    const doc = await createDoc(tandem.url)
    const writer = client({ baseUrl: tandem.url, docId: doc.id, token: doc.editToken })
    await writer.whenSynced()
    const states = record(writer)
    await fetch(`${tandem.url}/api/docs/${doc.id}?k=${doc.editToken}`, { method: 'DELETE' })
    await vi.waitFor(() =>
      expect(writer.status.connection).toEqual({ kind: 'refused', reason: CLOSE_REASONS.docNotFound }),
    )
    expect(states.map((state) => state.kind)).toEqual(['connected', 'refused'])
  })

  it('[R26] a WebSocket server that accepts and never answers, on a server whose HTTP works, is blocked: fall back', async () => {
    const server = await startScriptedWebSocketServer(() => undefined)
    const remembered = memory()
    const writer = client({ baseUrl: server.url, docId: 'd', token: 'e.x', fallbackMemory: remembered })
    await vi.waitFor(() => expect(remembered.stored).toBe('longpoll'), { timeout: 3_000 })
    expect(server.connections.length).toBeGreaterThanOrEqual(1)
    expect(writer.status.transport).toBe('longpoll')
  })
})
