import { SyncProvider } from '@tandem/client/sync'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { DocumentEvents } from '../../src/core/events.ts'
import { Persister } from '../../src/core/Persister.ts'
import { LevelStore } from '../../src/persistence/LevelStore.ts'
import { createDoc, eventually, stockClient, text, whenStockSynced } from './support/clients.ts'
import { scrape } from './support/metrics.ts'
import { startTestServer } from './support/testServer.ts'

/** A WebSocket that never opens: what a client behind a proxy that drops upgrades sees. */
class RefusedWebSocket {
  static readonly OPEN = 1
  binaryType = 'arraybuffer'
  readyState = 3
  onopen: (() => void) | null = null
  onmessage: (() => void) | null = null
  onerror: (() => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  constructor(_url: string) {
    queueMicrotask(() => this.onclose?.({ code: 1006, reason: '' }))
  }
  send(): void {}
  close(): void {}
}

describe('metrics', () => {
  it('[R51] after a two-user WebSocket session: connections, updates, rooms, persistence', async () => {
    const server = await startTestServer({ METRICS_PORT: '0' })
    const doc = await createDoc(server.url)
    const ada = stockClient(server.wsUrl, doc.id, doc.editToken)
    const bob = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(ada)
    await whenStockSynced(bob)
    for (const char of 'hello') ada.doc.getText('t').insert(text(ada.doc).length, char)
    await eventually(() => expect(text(bob.doc)).toBe('hello'))
    await eventually(async () =>
      expect((await scrape(server.metricsUrl)).value('tandem_rooms_dirty')).toBe(0),
    )

    const metrics = await scrape(server.metricsUrl)
    console.info(
      'sample /metrics after a two-user session:\n' +
        metrics.text
          .split('\n')
          .filter((line) => line.startsWith('tandem_') || line.startsWith('# HELP tandem_'))
          .join('\n'),
    )
    expect(metrics.value('tandem_connections', { transport: 'websocket', role: 'edit' })).toBe(2)
    // Five keystrokes, five updates in; they reached the one other client in at most five frames
    // (updates applied in one event-loop turn are broadcast as one, SPEC R1).
    expect(metrics.value('tandem_updates_received_total', { transport: 'websocket' })).toBe(5)
    const broadcast = metrics.value('tandem_updates_broadcast_total', { transport: 'websocket' })
    expect(broadcast).toBeGreaterThanOrEqual(1)
    expect(broadcast).toBeLessThanOrEqual(5)
    expect(metrics.value('tandem_rooms_loaded')).toBe(1)
    expect(metrics.value('tandem_rooms_dirty')).toBe(0)
    expect(metrics.value('tandem_persist_batch_entries_sum')).toBe(5)
    expect(metrics.value('tandem_persist_batch_entries_count')).toBeGreaterThanOrEqual(1)
    expect(metrics.value('tandem_persist_batch_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(metrics.value('tandem_persist_failures_total')).toBe(0)
    expect(metrics.value('tandem_sse_streams')).toBe(0)
    expect(metrics.value('tandem_poll_sessions')).toBe(0)
    expect(metrics.value('tandem_transport_fallbacks_total')).toBe(0)
    expect(metrics.value('tandem_webhook_queue_depth')).toBe(0)
    // A metric that is not exported reads as missing, not as 0: a rename fails the checks above.
    expect(metrics.value('tandem_no_such_metric')).toBeUndefined()
    // prom-client's default process metrics, in Tandem's own registry.
    expect(metrics.text).toContain('process_cpu_user_seconds_total')
    expect(metrics.text).toContain('nodejs_eventloop_lag_seconds')

    bob.destroy()
    await eventually(async () =>
      expect(
        (await scrape(server.metricsUrl)).value('tandem_connections', {
          transport: 'websocket',
          role: 'edit',
        }),
      ).toBe(1),
    )
  })

  it('[R51] counts viewers on SSE, poll sessions, a fallback and a rejection by reason', async () => {
    const server = await startTestServer({ METRICS_PORT: '0' })
    const doc = await createDoc(server.url)

    const viewer = new AbortController()
    const stream = await fetch(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`, {
      signal: viewer.signal,
    })
    expect(stream.status).toBe(200)

    // Tandem's own client whose WebSocket never opens falls back to long polling and says so.
    const fallen = new SyncProvider({
      doc: new Y.Doc(),
      docId: doc.id,
      token: doc.editToken,
      baseUrl: server.url,
      WebSocketImpl: RefusedWebSocket as unknown as typeof globalThis.WebSocket,
      fallbackMemory: { recall: () => null, remember: () => undefined, forget: () => undefined },
      backoff: { baseMs: 20, maxMs: 200 },
    })
    try {
      await fallen.whenSynced()
      expect(fallen.status.transport).toBe('longpoll')

      const garbage = new WebSocket(`${server.wsUrl}/${doc.id}?k=${doc.editToken}`)
      await new Promise((resolve) => garbage.once('open', resolve))
      garbage.send(new Uint8Array([0, 9, 9]))
      await new Promise((resolve) => garbage.once('close', resolve))

      await eventually(async () => {
        const metrics = await scrape(server.metricsUrl)
        expect(metrics.value('tandem_sse_streams')).toBe(1)
        expect(metrics.value('tandem_connections', { transport: 'sse', role: 'view' })).toBe(1)
        expect(metrics.value('tandem_poll_sessions')).toBe(1)
        expect(metrics.value('tandem_connections', { transport: 'longpoll', role: 'edit' })).toBe(1)
        expect(metrics.value('tandem_transport_fallbacks_total')).toBe(1)
        expect(metrics.value('tandem_rejections_total', { reason: 'malformedMessage' })).toBe(1)
        expect(metrics.value('tandem_connections', { transport: 'websocket', role: 'edit' })).toBe(0)
      })
    } finally {
      fallen.destroy()
      viewer.abort()
    }
  })

  it('[R51] a metrics listener that cannot start stops the server cleanly: persister, webhooks, then the store', async () => {
    const taken = await startTestServer({ METRICS_PORT: '0' })
    const port = new URL(String(taken.metricsUrl)).port
    const persisterClose = vi.spyOn(Persister.prototype, 'close')
    const storeClose = vi.spyOn(LevelStore.prototype, 'close')
    // Webhooks subscribe to document events on start; closing them disposes of that subscription.
    // (The start fails, so nothing needs the subscription itself.)
    const dispose = vi.fn()
    const on = vi.spyOn(DocumentEvents.prototype, 'on').mockImplementation(() => dispose)
    try {
      await expect(startTestServer({ METRICS_PORT: port })).rejects.toThrow(/EADDRINUSE/)
      const order = (mock: { mock: { invocationCallOrder: number[] } }): number =>
        mock.mock.invocationCallOrder[0] ?? Number.NaN
      expect(order(persisterClose)).toBeLessThan(order(dispose))
      expect(order(dispose)).toBeLessThan(order(storeClose))
    } finally {
      for (const spy of [persisterClose, storeClose, on]) spy.mockRestore()
    }
  })

  it('[R51] /metrics is served only on the admin listener, and only with METRICS_PORT', async () => {
    const withMetrics = await startTestServer({ METRICS_PORT: '0' })
    expect((await fetch(`${withMetrics.url}/metrics`)).status).toBe(404)
    expect(new URL(String(withMetrics.metricsUrl)).port).not.toBe(String(withMetrics.port))
    expect((await fetch(String(withMetrics.metricsUrl).replace('/metrics', '/healthz'))).status).toBe(404)

    const without = await startTestServer()
    expect(without.metricsUrl).toBeNull()
    expect((await fetch(`${without.url}/metrics`)).status).toBe(404)
  })
})
