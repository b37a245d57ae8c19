import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { SyncProvider, type SyncProviderOptions } from '../src/sync/SyncProvider.ts'
import type { ConnectionState } from '../src/sync/types.ts'
import { ScriptedTransport, connectivity, http, memory } from './support/scripted.ts'

const providers: SyncProvider[] = []

afterEach(() => {
  for (const provider of providers.splice(0)) provider.destroy()
})

/** A provider over scripted parts: no network, no browser. */
function provider(
  options: Partial<SyncProviderOptions> & Pick<SyncProviderOptions, 'transport'>,
): SyncProvider {
  const created = new SyncProvider({
    doc: new Y.Doc(),
    docId: 'd',
    token: 't',
    baseUrl: 'http://tandem.test',
    fallbackMemory: memory(),
    connectivity: connectivity(),
    fetchImpl: http('works'),
    backoff: { baseMs: 10, maxMs: 20 },
    ...options,
  })
  providers.push(created)
  return created
}

/** Every connection state the provider goes through, in order. */
function record(target: SyncProvider): ConnectionState[] {
  const states: ConnectionState[] = [target.status.connection]
  target.onStatus(({ connection }) => {
    if (states.at(-1) !== connection) states.push(connection)
  })
  return states
}

const text = (doc: Y.Doc): string => doc.getText('t').toString()

describe('[R12] which closes end reconnecting', () => {
  const final: CloseReason[] = [
    CLOSE_REASONS.invalidDocId,
    CLOSE_REASONS.unauthorized,
    CLOSE_REASONS.forbidden,
    CLOSE_REASONS.docNotFound,
    CLOSE_REASONS.badOrigin,
  ]
  it.each(final.map((reason) => [reason.code, reason] as const))(
    '[R12] %i is final: no retry, the page says why',
    async (_code, reason) => {
      const transport = new ScriptedTransport('websocket')
      transport.behaviour = { kind: 'refuses', reason }
      const client = provider({ transport })
      await vi.waitFor(() => expect(client.status.connection).toEqual({ kind: 'refused', reason }))
      expect(transport.opened).toBe(1)
    },
  )

  const retried: CloseReason[] = [
    CLOSE_REASONS.invalidUpdate,
    CLOSE_REASONS.foreignClient,
    CLOSE_REASONS.invalidAwareness,
    CLOSE_REASONS.malformedMessage,
    CLOSE_REASONS.messageTooBig,
    CLOSE_REASONS.readOnly,
    CLOSE_REASONS.superseded,
    CLOSE_REASONS.unresponsive,
    CLOSE_REASONS.normal,
    CLOSE_REASONS.tooManyRequests,
  ]
  it.each(retried.map((reason) => [reason.code, reason] as const))(
    '[R12] %i is retried with backoff, shown as reconnecting',
    async (_code, reason) => {
      const transport = new ScriptedTransport('websocket')
      transport.behaviour = { kind: 'refuses', reason }
      const client = provider({ transport })
      const states = record(client)
      await vi.waitFor(() => expect(transport.opened).toBeGreaterThanOrEqual(3))
      expect(states).toContainEqual(expect.objectContaining({ kind: 'reconnecting', reason }))
      expect(states.map((state) => state.kind)).not.toContain('refused')
    },
  )

  it('[R12] a synced connection that drops is retried quickly; one closed for what it sent (4423) keeps backing off', async () => {
    // The top of the jitter range, so each wait is exactly the backoff ceiling.
    const random = vi.spyOn(Math, 'random').mockReturnValue(1)
    try {
      const transport = new ScriptedTransport('websocket')
      transport.behaviour = { kind: 'server' }
      const client = provider({ transport, backoff: { baseMs: 100, maxMs: 10_000 } })
      const waits: number[] = []
      client.onStatus(({ connection }) => {
        if (connection.kind === 'reconnecting') waits.push(connection.retryInMs)
      })
      await client.whenSynced()
      transport.connections.at(-1)?.onClose(null)
      await vi.waitFor(() => expect(transport.opened).toBe(2))
      await client.whenSynced()
      transport.connections.at(-1)?.onClose(CLOSE_REASONS.foreignClient)
      await vi.waitFor(() => expect(waits).toHaveLength(2))
      // A drop after a healthy sync: the first step (100 ms). A rejection: the backoff goes on (200 ms),
      // since the resync sends the same thing again.
      expect(waits).toEqual([100, 200])
    } finally {
      random.mockRestore()
    }
  })
})

describe('[R26] fallback only when HTTP to the server works', () => {
  it('[R26] a primary that delivers nothing, while HTTP works, falls back at once, remembers it, and returns when a probe works', async () => {
    const primary = new ScriptedTransport('websocket')
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = { kind: 'server' }
    const remembered = memory()
    const fetchImpl = http('works')
    const doc = new Y.Doc()
    const client = provider({
      doc,
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      fetchImpl,
      firstMessageTimeoutMs: 50,
      probeBackoff: { baseMs: 20, maxMs: 40 },
    })
    await vi.waitFor(() => expect(client.status).toMatchObject({ transport: 'longpoll', isSynced: true }))
    expect(remembered.stored).toBe('longpoll')
    expect(fetchImpl.calls[0]).toBe('http://tandem.test/api/docs/d?k=t')
    // Edits made meanwhile stay in the document whichever transport carries them.
    doc.getText('t').insert(0, 'kept')
    primary.behaviour = { kind: 'server' }
    await vi.waitFor(() => expect(client.status).toMatchObject({ transport: 'websocket', isSynced: true }))
    expect(remembered.stored).toBeNull()
    await vi.waitFor(() => expect(text(primary.serverDoc)).toBe('kept'))
  })

  it('[R26] a remembered fallback is used first on the next page load', async () => {
    const primary = new ScriptedTransport('websocket')
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = { kind: 'server' }
    const client = provider({
      transport: primary,
      fallback,
      fallbackMemory: memory('longpoll'),
      probeBackoff: { baseMs: 60_000, maxMs: 60_000 },
    })
    await vi.waitFor(() => expect(client.status).toMatchObject({ transport: 'longpoll', isSynced: true }))
    expect(primary.opened).toBe(0)
  })

  it('[R26] a failed primary with HTTP unreachable is offline, not blocked: it retries the primary and never falls back', async () => {
    const primary = new ScriptedTransport('websocket')
    primary.behaviour = { kind: 'refuses', reason: null }
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = { kind: 'server' }
    const remembered = memory()
    const client = provider({
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      fetchImpl: http('unreachable'),
    })
    const states = record(client)
    await vi.waitFor(() => expect(primary.opened).toBeGreaterThanOrEqual(3))
    expect(fallback.opened).toBe(0)
    expect(remembered.stored).toBeNull()
    expect(states).toContainEqual(
      expect.objectContaining({ kind: 'offline', detail: 'the server cannot be reached: network error' }),
    )
  })

  it('[R26] a failed primary whose document answers HTTP 404 is refused for good, with the catalogue reason', async () => {
    const primary = new ScriptedTransport('websocket')
    primary.behaviour = { kind: 'refuses', reason: null }
    const fallback = new ScriptedTransport('longpoll')
    const remembered = memory()
    const client = provider({
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      fetchImpl: http('not-found'),
    })
    await vi.waitFor(() =>
      expect(client.status.connection).toEqual({ kind: 'refused', reason: CLOSE_REASONS.docNotFound }),
    )
    expect(primary.opened).toBe(1)
    expect(fallback.opened).toBe(0)
    expect(remembered.stored).toBeNull()
  })

  it('[R26] a 404 page without the catalogue body (a proxy, a captive portal) is not final: retried', async () => {
    const primary = new ScriptedTransport('websocket')
    primary.behaviour = { kind: 'refuses', reason: null }
    const client = provider({ transport: primary, fetchImpl: http('proxy-page') })
    const states = record(client)
    await vi.waitFor(() => expect(primary.opened).toBeGreaterThanOrEqual(2))
    expect(states).toContainEqual(expect.objectContaining({ kind: 'reconnecting' }))
    expect(states.map((state) => state.kind)).not.toContain('refused')
  })

  it('[R26] a viewer’s silent event stream falls back to long polling only when HTTP works', async () => {
    const primary = new ScriptedTransport('sse')
    primary.canSend = false
    const fallback = new ScriptedTransport('longpoll')
    fallback.behaviour = { kind: 'server' }
    const client = provider({
      mode: 'view',
      transport: primary,
      fallback,
      firstMessageTimeoutMs: 50,
      probeBackoff: { baseMs: 60_000, maxMs: 60_000 },
    })
    await vi.waitFor(() => expect(client.status).toMatchObject({ transport: 'longpoll', isSynced: true }))
  })
})

describe('[R34] retry hints', () => {
  it('[R34] waits at least the server’s Retry-After before reconnecting', async () => {
    const transport = new ScriptedTransport('longpoll')
    transport.behaviour = { kind: 'refuses', reason: CLOSE_REASONS.tooManyRequests, retryAfterMs: 10_000 }
    const client = provider({ transport })
    await vi.waitFor(() => expect(client.status.connection.kind).toBe('reconnecting'))
    const connection = client.status.connection
    expect(connection.kind === 'reconnecting' && connection.retryInMs).toBeGreaterThanOrEqual(10_000)
    expect(transport.opened).toBe(1)
  })
})

describe('[R12] heartbeat', () => {
  it('[R12] pings after the heartbeat interval of silence; answered pings keep the connection', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const client = provider({ transport, heartbeatIntervalMs: 20, silenceTimeoutMs: 100 })
    await client.whenSynced()
    await vi.waitFor(() => expect(transport.sentOf('ping').length).toBeGreaterThanOrEqual(10))
    const nonces = transport.sentOf('ping').map((ping) => ping.nonce)
    expect(nonces).toEqual([...nonces].sort((a, b) => a - b))
    expect(new Set(nonces).size).toBe(nonces.length)
    // Ten pings, 200 ms and more: twice the silence timeout, on the one connection.
    expect(transport.opened).toBe(1)
    expect(client.status.connection.kind).toBe('connected')
  })

  it('[R12] a connection silent for the silence timeout is closed and reconnected, not treated as blocked', async () => {
    const primary = new ScriptedTransport('websocket')
    primary.behaviour = { kind: 'server' }
    primary.answersPings = false
    const fallback = new ScriptedTransport('longpoll')
    const remembered = memory()
    const client = provider({
      transport: primary,
      fallback,
      fallbackMemory: remembered,
      heartbeatIntervalMs: 20,
      silenceTimeoutMs: 100,
    })
    await client.whenSynced()
    const syncedAtMs = Date.now()
    const states = record(client)
    await vi.waitFor(() => expect(primary.opened).toBe(2))
    const elapsedMs = Date.now() - syncedAtMs
    expect(elapsedMs).toBeGreaterThanOrEqual(90)
    expect(elapsedMs).toBeLessThan(1_000)
    expect(primary.sentOf('ping', 0).length).toBeGreaterThanOrEqual(1)
    expect(states).toContainEqual(expect.objectContaining({ kind: 'reconnecting' }))
    expect(fallback.opened).toBe(0)
    expect(remembered.stored).toBeNull()
  })

  it('[R12] a receive-only transport is not pinged and has its own, longer silence timeout', async () => {
    const transport = new ScriptedTransport('sse')
    transport.canSend = false
    transport.behaviour = { kind: 'server' }
    const client = provider({
      mode: 'view',
      transport,
      heartbeatIntervalMs: 10,
      silenceTimeoutMs: 30,
      receiveOnlySilenceTimeoutMs: 150,
    })
    // An SSE viewer cannot send its step 1: the server's stream opens with a step 2 instead.
    await vi.waitFor(() => expect(client.status.connection.kind).toBe('connected'))
    transport.push({ type: 'sync-step2', update: Y.encodeStateAsUpdate(new Y.Doc()) })
    // `: ping` comments keep it alive without a frame: four of them, 50 ms apart, outlast the
    // 150 ms silence timeout only if each counts.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      transport.connections.at(-1)?.onAlive()
    }
    const lastAliveAtMs = Date.now()
    expect(transport.opened).toBe(1)
    await vi.waitFor(() => expect(transport.opened).toBe(2))
    expect(Date.now() - lastAliveAtMs).toBeGreaterThanOrEqual(140)
    expect(transport.sentOf('ping', 0)).toEqual([])
  })
})

describe('[R12] the browser’s network events', () => {
  it('[R12] `offline` closes the connection at once and shows offline; `online` reconnects at once', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const network = connectivity()
    const client = provider({ transport, connectivity: network, backoff: { baseMs: 60_000, maxMs: 60_000 } })
    await client.whenSynced()
    network.set(false)
    await vi.waitFor(() =>
      expect(client.status.connection).toMatchObject({ kind: 'offline', detail: 'the browser went offline' }),
    )
    expect(transport.opened).toBe(1)
    network.set(true)
    // No backoff wait (up to 60 s here): the attempt starts on the event.
    await vi.waitFor(() => expect(transport.opened).toBe(2), { timeout: 1_000 })
    await vi.waitFor(() =>
      expect(client.status).toMatchObject({ isSynced: true, connection: { kind: 'connected' } }),
    )
  })

  it('[R12] `online` after a failed attempt skips the rest of the backoff', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'refuses', reason: CLOSE_REASONS.serverShutdown, retryAfterMs: 60_000 }
    const network = connectivity()
    const client = provider({ transport, connectivity: network })
    await vi.waitFor(() => expect(client.status.connection.kind).toBe('reconnecting'))
    transport.behaviour = { kind: 'server' }
    network.set(true)
    await vi.waitFor(() => expect(client.status.isSynced).toBe(true), { timeout: 1_000 })
  })

  it('[R12] retryNow() ends the wait: the next attempt starts at once', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'refuses', reason: CLOSE_REASONS.docUnavailable, retryAfterMs: 60_000 }
    const client = provider({ transport })
    await vi.waitFor(() => expect(client.status.connection.kind).toBe('reconnecting'))
    const connection = client.status.connection
    transport.behaviour = { kind: 'server' }
    // The badge's button calls the wait's own handle.
    if (connection.kind === 'reconnecting') connection.retryNow()
    await vi.waitFor(() => expect(client.status.isSynced).toBe(true), { timeout: 1_000 })
    expect(transport.opened).toBe(2)
  })

  it('[R12] while the browser is offline a failed attempt is offline without asking the server', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'refuses', reason: null }
    const fetchImpl = http('works')
    const fallback = new ScriptedTransport('longpoll')
    const client = provider({ transport, fallback, fetchImpl, connectivity: connectivity(false) })
    await vi.waitFor(() => expect(client.status.connection.kind).toBe('offline'))
    expect(fetchImpl.calls).toEqual([])
    expect(fallback.opened).toBe(0)
  })
})

describe('[R7] saved acknowledgements and local replicas', () => {
  it('[R7] a document loaded with content before connecting is unsaved until the first resync’s ack covers it', async () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'typed offline in an earlier page load')
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const client = provider({ doc, transport })
    expect(client.status.save).toBe('saving')
    await vi.waitFor(() => expect(client.status.save).toBe('saved'))
    expect(text(transport.serverDoc)).toBe('typed offline in an earlier page load')
  })

  it('[R7] an empty document starts saved', () => {
    const client = provider({ transport: new ScriptedTransport('websocket') })
    expect(client.status.save).toBe('saved')
  })

  it('[R33] updates from another replica (replicaOrigins) are not sent live, but are in the next step 2', async () => {
    const replica = { name: 'another tab' }
    const doc = new Y.Doc()
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const client = provider({ doc, transport, replicaOrigins: [replica] })
    await client.whenSynced()
    await vi.waitFor(() => expect(client.status.save).toBe('saved'))

    const otherTab = new Y.Doc()
    otherTab.getText('t').insert(0, 'from the other tab')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(otherTab), replica)
    doc.getText('t').insert(0, 'mine; ')
    await vi.waitFor(() => expect(transport.sentOf('sync-update')).toHaveLength(1))
    const [live] = transport.sentOf('sync-update')
    // Only our own client id goes out live: the other tab's stays the other tab's (SPEC R33).
    expect([
      ...Y.decodeStateVector(Y.encodeStateVectorFromUpdate(live?.update ?? new Uint8Array())).keys(),
    ]).toEqual([doc.clientID])

    // The next connection's step 2 carries it.
    transport.connections.at(-1)?.onClose(null)
    await vi.waitFor(() => expect(transport.opened).toBe(2))
    await vi.waitFor(() => expect(transport.sentOf('sync-step2')).toHaveLength(1))
    await vi.waitFor(() => expect(text(transport.serverDoc)).toBe('mine; from the other tab'))
  })

  it('[R7] a replica update that arrives before the resync is unsaved until the step 2 carrying it is acknowledged', async () => {
    const replica = { name: 'IndexedDB' }
    const doc = new Y.Doc()
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const client = provider({ doc, transport, replicaOrigins: [replica] })
    expect(client.status.save).toBe('saved')
    const other = new Y.Doc()
    other.getText('t').insert(0, 'kept in this browser')
    // Before the first connection opens (transports open asynchronously).
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other), replica)
    expect(client.status.save).toBe('saving')
    await vi.waitFor(() => expect(client.status.save).toBe('saved'))
    expect(text(transport.serverDoc)).toBe('kept in this browser')
  })
})

describe('[R36] presence', () => {
  it('[R36] when the server removes our own presence, the provider announces it again with a higher clock', async () => {
    const transport = new ScriptedTransport('websocket')
    transport.behaviour = { kind: 'server' }
    const client = provider({ transport })
    client.awareness.setLocalStateField('user', { name: 'Ada' })
    await client.whenSynced()
    const clock = client.awareness.meta.get(client.doc.clientID)?.clock ?? 0

    // What the server broadcasts when it drops a stale connection of ours: our id, no state, the
    // clock one higher (y-protocols' removal).
    const server = new awarenessProtocol.Awareness(new Y.Doc())
    server.meta.set(client.doc.clientID, { clock: clock + 1, lastUpdated: Date.now() })
    const before = transport.sentOf('awareness').length
    transport.push({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(server, [client.doc.clientID]),
    })
    server.destroy()

    await vi.waitFor(() => expect(transport.sentOf('awareness').length).toBe(before + 1))
    const announced = transport.sentOf('awareness').at(-1)
    const seen = new awarenessProtocol.Awareness(new Y.Doc())
    awarenessProtocol.applyAwarenessUpdate(seen, announced?.update ?? new Uint8Array(), 'test')
    expect(seen.getStates().get(client.doc.clientID)).toEqual({ user: { name: 'Ada' } })
    expect(seen.meta.get(client.doc.clientID)?.clock).toBeGreaterThan(clock + 1)
    seen.destroy()
    expect(client.awareness.getLocalState()).toEqual({ user: { name: 'Ada' } })
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
