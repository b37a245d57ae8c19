/**
 * Delivery latency per transport: one editor on WebSocket types a character every 50 ms
 * (20 updates/s); readers on WebSocket, long polling, short polling and SSE record when each
 * character arrives. Reports median and p95 per transport, and the extra latency against
 * WebSocket. Clients run in this process, the server in its own.
 *
 *   npx tsx bench/transport-latency.ts [updates=200]
 */
import { SyncProvider, type TransportName } from '@tandem/client/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createDoc, percentile, startTandem } from './support/server.ts'

const UPDATES = Number(process.argv[2] ?? 200)
const INTERVAL_MS = 50
const READERS: Array<{ transport: TransportName; mode: 'edit' | 'view' }> = [
  { transport: 'websocket', mode: 'edit' },
  { transport: 'longpoll', mode: 'edit' },
  { transport: 'poll', mode: 'edit' },
  { transport: 'sse', mode: 'view' },
]

const server = await startTandem()
try {
  const doc = await createDoc(server.url)
  const provider = (token: string, transport: TransportName, mode: 'edit' | 'view'): SyncProvider =>
    new SyncProvider({
      doc: new Y.Doc(),
      docId: doc.id,
      token,
      mode,
      transport,
      baseUrl: server.url,
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    })
  const writer = provider(doc.editToken, 'websocket', 'edit')
  const readers = READERS.map(({ transport, mode }) => ({
    transport,
    provider: provider(mode === 'edit' ? doc.editToken : doc.viewToken, transport, mode),
    latencies: [] as number[],
  }))
  await Promise.all([writer.whenSynced(), ...readers.map((r) => r.provider.whenSynced())])
  const sentAt: number[] = []
  for (const reader of readers) {
    reader.provider.doc.on('update', () => {
      const length = reader.provider.doc.getText('t').length
      const now = performance.now()
      while (reader.latencies.length < length)
        reader.latencies.push(now - (sentAt[reader.latencies.length] ?? now))
    })
  }
  for (let i = 0; i < UPDATES; i++) {
    sentAt.push(performance.now())
    writer.doc.getText('t').insert(i, 'x')
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS))
  }
  const deadline = Date.now() + 15_000
  while (readers.some((r) => r.latencies.length < UPDATES) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const wsMedian = percentile(readers[0]?.latencies ?? [], 50)
  const rows = readers.map(({ transport, latencies, provider: p }) => ({
    transport,
    delivered: `${latencies.length}/${UPDATES}`,
    identical: p.doc.getText('t').toString() === writer.doc.getText('t').toString(),
    'p50 ms': percentile(latencies, 50).toFixed(1),
    'p95 ms': percentile(latencies, 95).toFixed(1),
    'p50 − websocket p50 ms': (percentile(latencies, 50) - wsMedian).toFixed(1),
  }))
  console.table(rows)
  for (const p of [writer, ...readers.map((r) => r.provider)]) p.destroy()
} finally {
  await server.stop()
}
