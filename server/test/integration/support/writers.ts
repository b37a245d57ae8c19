import { SyncProvider } from '@tandem/client/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { CreatedDoc } from './clients.ts'
import { within, type ServerProcess } from './serverProcess.ts'

/** Every token, and nothing else, is `[<writer>.<n>]`; tokens are only inserted between tokens. */
export const TOKEN = /\[[\w-]+\.\d+\]/g

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Tandem's client (acks on) against a server process, over WebSocket. */
export function provider(server: ServerProcess, doc: CreatedDoc, mode: 'edit' | 'view'): SyncProvider {
  return new SyncProvider({
    doc: new Y.Doc(),
    docId: doc.id,
    token: mode === 'edit' ? doc.editToken : doc.viewToken,
    mode,
    baseUrl: server.url,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, maxMs: 200 },
  })
}

export function destroy(client: SyncProvider): void {
  client.destroy()
  client.doc.destroy()
}

/**
 * One writer typing tokens at random token boundaries. A token counts as acknowledged when the
 * provider reports `saved` after it was typed: the server's durable ack then covers every local
 * edit so far (SPEC R7).
 */
export class Writer {
  readonly typed: string[] = []
  acknowledgedCount = 0
  #isTyping = false
  #typing: Promise<void> = Promise.resolve()

  constructor(
    readonly client: SyncProvider,
    readonly name: string,
    private readonly pauseMs: { readonly min: number; readonly max: number } = { min: 2, max: 15 },
  ) {
    client.onStatus((status) => {
      if (status.save === 'saved') this.acknowledgedCount = this.typed.length
    })
  }

  get acknowledged(): string[] {
    return this.typed.slice(0, this.acknowledgedCount)
  }

  startTyping(): void {
    this.#isTyping = true
    this.#typing = this.#typeLoop()
  }

  async stopTyping(): Promise<void> {
    this.#isTyping = false
    await this.#typing
  }

  async #typeLoop(): Promise<void> {
    while (this.#isTyping) {
      const text = this.client.doc.getText('t')
      const token = `[${this.name}.${this.typed.length}]`
      text.insert(
        tokenBoundaryAtOrAfter(text.toString(), Math.floor(Math.random() * (text.length + 1))),
        token,
      )
      this.typed.push(token)
      const { min, max } = this.pauseMs
      await pause(min + Math.floor(Math.random() * (max - min + 1)))
    }
  }
}

/** Inserting only between tokens keeps every token contiguous on every replica. */
function tokenBoundaryAtOrAfter(text: string, position: number): number {
  if (position === 0 || text[position - 1] === ']') return position
  return text.indexOf(']', position) + 1
}

export function occurrences(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const [token] of text.matchAll(TOKEN)) counts.set(token, (counts.get(token) ?? 0) + 1)
  return counts
}

/** Loads the document with a fresh read-only client over the event stream and returns its text. */
export async function readDocument(server: ServerProcess, doc: CreatedDoc): Promise<string> {
  const reader = provider(server, doc, 'view')
  try {
    await within(reader.whenSynced(), 10_000, 'the reader syncing')
    return reader.doc.getText('t').toString()
  } finally {
    destroy(reader)
  }
}
