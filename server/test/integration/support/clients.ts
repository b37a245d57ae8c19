import { SyncProvider, type SyncProviderOptions } from '@tandem/client/sync'
import { afterEach, expect, vi } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const cleanups: Array<() => void> = []

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

export interface CreatedDoc {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
}

/** Creates a document through the REST API, as the home page does. */
export async function createDoc(baseUrl: string): Promise<CreatedDoc> {
  const response = await fetch(`${baseUrl}/api/docs`, { method: 'POST' })
  expect(response.status).toBe(201)
  return (await response.json()) as CreatedDoc
}

/** Our own SyncProvider, running in Node over the `ws` package (or SSE via Node's fetch). */
export function ourClient(
  baseUrl: string,
  docId: string,
  token: string,
  options: Partial<Pick<SyncProviderOptions, 'mode' | 'viewerName' | 'transport'>> = {},
): SyncProvider {
  const doc = new Y.Doc()
  const provider = new SyncProvider({
    ...options,
    doc,
    docId,
    token,
    baseUrl,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, maxMs: 200 },
  })
  cleanups.push(() => {
    provider.destroy()
    doc.destroy()
  })
  return provider
}

/** The stock y-websocket provider, unmodified: the reference client of R1. */
export function stockClient(wsUrl: string, docId: string, token: string): WebsocketProvider {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(wsUrl, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { k: token },
    disableBc: true,
  })
  cleanups.push(() => {
    provider.destroy()
    doc.destroy()
  })
  return provider
}

export function text(doc: Y.Doc): string {
  return doc.getText('t').toString()
}

/** Awaits a condition by polling it; never a guessed sleep. */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  await vi.waitFor(assertion, { timeout: timeoutMs, interval: 10 })
}

export async function whenStockSynced(provider: WebsocketProvider): Promise<void> {
  await eventually(() => expect(provider.synced).toBe(true))
}
