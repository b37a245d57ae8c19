import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { WebsocketProvider as WebsocketProviderV2 } from 'y-websocket-v2'
import * as Y from 'yjs'

/** The Y.XmlFragment Tiptap's Collaboration binds (`DOC_FRAGMENT`, shared/src/docId.ts). */
const DOC_FRAGMENT = 'default'

export type StockVersion = 'y-websocket 3.x' | 'y-websocket 2.x'

/**
 * The stock providers, unmodified. 2.x's API is a subset of 3.x's (no `closed` event, no
 * `shouldReconnect`), and neither is used here, so both are driven through 3.x's type.
 */
const PROVIDERS: Record<StockVersion, typeof WebsocketProvider> = {
  'y-websocket 3.x': WebsocketProvider,
  'y-websocket 2.x': WebsocketProviderV2 as unknown as typeof WebsocketProvider,
}

/**
 * A stock y-websocket client in this process, used as its README says, with presence on like
 * every app that shows carets, writing paragraphs into the fragment the editor shows.
 */
export interface StockWriter {
  readonly name: string
  readonly provider: WebsocketProvider
  /**
   * Every close, error or status change after the first connection: on a healthy network each is
   * the server turning the client away (a close with a code) or a connection dying.
   */
  readonly incidents: readonly string[]
  /** Adds a paragraph of its own holding `text`; `type()` appends to it. */
  startLine(text: string): void
  /** Appends `text` to its own paragraph and moves its caret after it, as a person typing does. */
  type(text: string): void
  /** The document as plain text, one line per paragraph (as `GET /api/docs/:id/text`). */
  text(): string
  /** The incidents, each distinct one once with its count, e.g. `close 4424 presence update rejected ×52`. */
  incidentSummary(): string[]
  /** `synced`, or why not: `not synced: close 4424 presence update rejected; …` (for failure messages). */
  syncState(): string
  /** `user.name`s in its awareness, and `viewer:<name>` for viewers (R21), sorted. */
  presenceNames(): string[]
  destroy(): void
}

export interface StockOptions {
  /** e.g. `ws://localhost:1234/ws` */
  readonly wsUrl: string
  readonly docId: string
  readonly editToken: string
  readonly version: StockVersion
}

export function startStockWriter(name: string, options: StockOptions): StockWriter {
  const doc = new Y.Doc()
  const Provider = PROVIDERS[options.version]
  const provider = new Provider(options.wsUrl, options.docId, doc, {
    params: { k: options.editToken },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    // Providers of one room in one process would otherwise sync over a BroadcastChannel and hide
    // what the server does.
    disableBc: true,
  })
  provider.awareness.setLocalStateField('user', { name })

  const incidents: string[] = []
  let hasConnected = false
  provider.on('status', ({ status }) => {
    if (status === 'connected') hasConnected = true
    else if (hasConnected) incidents.push(`status ${status}`)
  })
  provider.on('connection-close', (event) => {
    // null: the provider closed the socket itself (its 30 s silence watchdog, or destroy()).
    incidents.push(event === null ? 'closed by the client' : `close ${event.code} ${event.reason}`.trim())
  })
  provider.on('connection-error', () => incidents.push('connection error'))

  const fragment = doc.getXmlFragment(DOC_FRAGMENT)
  let line: Y.XmlText | null = null
  let isDestroyed = false

  return {
    name,
    provider,
    incidents,
    startLine(text) {
      const paragraph = new Y.XmlElement('paragraph')
      const content = new Y.XmlText()
      doc.transact(() => {
        fragment.insert(fragment.length, [paragraph])
        paragraph.insert(0, [content])
        content.insert(0, text)
      })
      line = content
    },
    type(text) {
      if (line === null) throw new Error(`${name} has no line yet: call startLine() first`)
      line.insert(line.length, text)
      // y-prosemirror's caret: relative positions as JSON, what a stock Tiptap/ProseMirror app sends
      // (any other shape under `cursor` throws inside the editor's caret plugin).
      const caret: unknown = Y.relativePositionToJSON(
        Y.createRelativePositionFromTypeIndex(line, line.length),
      )
      provider.awareness.setLocalStateField('cursor', { anchor: caret, head: caret })
    },
    incidentSummary: () => summarize(incidents),
    syncState: () =>
      provider.synced ? 'synced' : `not synced: ${summarize(incidents).join('; ') || 'no close seen'}`,
    text: () => fragmentText(fragment),
    presenceNames: () => presenceNames(provider.awareness.getStates()),
    destroy() {
      if (isDestroyed) return
      isDestroyed = true
      provider.destroy()
      doc.destroy()
    },
  }
}

/** One line per paragraph, its text runs joined; what the server's `/text` gives for paragraphs. */
function fragmentText(fragment: Y.XmlFragment): string {
  return fragment
    .toArray()
    .map((block) =>
      block instanceof Y.XmlElement
        ? block
            .toArray()
            .map((inline) =>
              inline instanceof Y.XmlText
                ? (inline.toDelta() as Array<{ insert: unknown }>)
                    .map((op) => (typeof op.insert === 'string' ? op.insert : ''))
                    .join('')
                : '',
            )
            .join('')
        : '',
    )
    .join('\n')
}

function presenceNames(states: Map<number, Record<string, unknown>>): string[] {
  const names: string[] = []
  for (const state of states.values()) {
    const user = state['user'] as { name?: unknown } | undefined
    const viewer = state['viewer'] as { name?: unknown } | undefined
    if (typeof user?.name === 'string') names.push(user.name)
    if (typeof viewer?.name === 'string') names.push(`viewer:${viewer.name}`)
  }
  return names.sort()
}

function summarize(incidents: readonly string[]): string[] {
  const counts = new Map<string, number>()
  for (const incident of incidents) counts.set(incident, (counts.get(incident) ?? 0) + 1)
  return [...counts].map(([incident, count]) => (count === 1 ? incident : `${incident} ×${count}`))
}
