import { CLOSE_REASONS, encodeMessage, type CloseReason } from '@tandem/shared'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { FallbackMemory } from '../src/sync/fallback.ts'
import { SyncProvider } from '../src/sync/SyncProvider.ts'
import type { ClientTransport, TransportConnection, TransportHandlers } from '../src/sync/transport.ts'
import type { TransportName } from '../src/sync/types.ts'

/**
 * Scripted transports: the provider's policy (fallback, probing, retry hints) is what is under
 * test here; real transports against a real server are covered in server/test/integration.
 */
class ScriptedTransport implements ClientTransport {
  readonly canSend = true
  opened = 0
  behaviour: 'silent' | 'greets' | 'refuses' = 'silent'
  refusal: { reason: CloseReason | null; retryAfterMs?: number } = { reason: null }
  readonly connections: TransportHandlers[] = []
  constructor(readonly name: TransportName) {}
  open(handlers: TransportHandlers): TransportConnection {
    this.opened += 1
    this.connections.push(handlers)
    let isClosed = false
    queueMicrotask(() => {
      if (this.behaviour === 'greets') {
        handlers.onOpen()
        handlers.onFrame(encodeMessage({ type: 'sync-step2', update: new Uint8Array([0, 0]) }))
      } else if (this.behaviour === 'refuses') {
        isClosed = true
        handlers.onClose(this.refusal.reason, this.refusal.retryAfterMs)
      }
    })
    return {
      send: () => undefined,
      close: () => {
        if (isClosed) return
        isClosed = true
        handlers.onClose(null)
      },
    }
  }
}

function memory(): FallbackMemory & { stored: TransportName | null } {
  return {
    stored: null,
    recall() {
      return this.stored
    },
    remember(name) {
      this.stored = name
    },
    forget() {
      this.stored = null
    },
  }
}

describe('SyncProvider transport policy', () => {
  it('[R26] a primary that delivers nothing falls back at once, remembers it, and returns when a probe works', async () => {
    const primary = new ScriptedTransport('websocket')
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = 'greets'
    const remembered = memory()
    const doc = new Y.Doc()
    const provider = new SyncProvider({
      doc,
      docId: 'd',
      token: 't',
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      firstMessageTimeoutMs: 50,
      probeBackoff: { baseMs: 20, maxMs: 40 },
      baseUrl: 'http://x',
    })
    await vi.waitFor(() => expect(provider.status).toMatchObject({ transport: 'longpoll', isSynced: true }))
    expect(remembered.stored).toBe('longpoll')
    expect(primary.opened).toBeGreaterThanOrEqual(1)
    // Edits made meanwhile stay in the document whichever transport carries them.
    doc.getText('t').insert(0, 'kept')
    primary.behaviour = 'greets'
    await vi.waitFor(() => expect(provider.status).toMatchObject({ transport: 'websocket', isSynced: true }))
    expect(remembered.stored).toBeNull()
    expect(doc.getText('t').toString()).toBe('kept')
    provider.destroy()
  })

  it('[R26] a remembered fallback is used first on the next page load', async () => {
    const primary = new ScriptedTransport('websocket')
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = 'greets'
    const remembered = memory()
    remembered.stored = 'longpoll'
    const provider = new SyncProvider({
      doc: new Y.Doc(),
      docId: 'd',
      token: 't',
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      probeBackoff: { baseMs: 60_000, maxMs: 60_000 },
      baseUrl: 'http://x',
    })
    await vi.waitFor(() => expect(provider.status).toMatchObject({ transport: 'longpoll', isSynced: true }))
    expect(primary.opened).toBe(0)
    provider.destroy()
  })

  it('[R34] waits at least the server’s Retry-After before reconnecting', async () => {
    const transport = new ScriptedTransport('longpoll')
    transport.behaviour = 'refuses'
    transport.refusal = { reason: CLOSE_REASONS.tooManyRequests, retryAfterMs: 10_000 }
    const provider = new SyncProvider({
      doc: new Y.Doc(),
      docId: 'd',
      token: 't',
      transport,
      baseUrl: 'http://x',
    })
    await vi.waitFor(() => expect(provider.status.connection.kind).toBe('offline'))
    const connection = provider.status.connection
    expect(connection.kind === 'offline' && connection.retryInMs).toBeGreaterThanOrEqual(10_000)
    expect(transport.opened).toBe(1)
    provider.destroy()
  })

  it('[R17] a refusal that is not retryable stops reconnecting and says why', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = 'refuses'
    transport.refusal = { reason: CLOSE_REASONS.forbidden }
    const provider = new SyncProvider({
      doc: new Y.Doc(),
      docId: 'd',
      token: 't',
      transport,
      baseUrl: 'http://x',
    })
    await vi.waitFor(() =>
      expect(provider.status.connection).toEqual({ kind: 'refused', reason: CLOSE_REASONS.forbidden }),
    )
    expect(transport.opened).toBe(1)
    provider.destroy()
  })
})

describe('writer key', () => {
  /** The URL each provider's WebSocket was opened with; nothing ever connects. */
  function openedUrls(): { urls: string[]; WebSocketImpl: typeof WebSocket } {
    const urls: string[] = []
    class RecordingSocket {
      static readonly OPEN = 1
      binaryType = 'arraybuffer'
      readyState = 0
      onopen: (() => void) | null = null
      onerror: (() => void) | null = null
      onmessage: (() => void) | null = null
      onclose: (() => void) | null = null
      constructor(url: string) {
        urls.push(url)
      }
      send(): void {}
      close(): void {}
    }
    return { urls, WebSocketImpl: RecordingSocket as unknown as typeof WebSocket }
  }

  const keyOf = (url: string | undefined): string | null => new URL(url ?? 'ws://x').searchParams.get('wk')

  it('[R33] one writer key per document: a new provider of the same Y.Doc (a new link) keeps it', () => {
    const { urls, WebSocketImpl } = openedUrls()
    const doc = new Y.Doc()
    const options = { docId: 'd', baseUrl: 'http://localhost:1', WebSocketImpl, fallbackMemory: memory() }
    const first = new SyncProvider({ ...options, doc, token: 'e.old' })
    first.destroy()
    const second = new SyncProvider({ ...options, doc, token: 'e.new' })
    second.destroy()
    const other = new SyncProvider({ ...options, doc: new Y.Doc(), token: 'e.new' })
    other.destroy()
    const viewer = new SyncProvider({ ...options, doc, token: 'v.x', mode: 'view', transport: 'websocket' })
    viewer.destroy()
    expect(keyOf(urls[0])).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(keyOf(urls[1])).toBe(keyOf(urls[0]))
    expect(keyOf(urls[2])).not.toBe(keyOf(urls[0]))
    // Viewers never write: they send no key.
    expect(keyOf(urls[3])).toBeNull()
  })
})
