import { decodeMessage, encodeMessage, ProtocolError, type Message } from '@tandem/shared'
import * as Y from 'yjs'

/**
 * Keeps the copies of one document in this browser's tabs in sync without a server, as
 * y-websocket's cross-tab channel does: a BroadcastChannel per document carrying y-protocols sync
 * messages (step 1, step 2, update; docs/PROTOCOL.md §1). Updates from other tabs are applied with
 * this object as their transaction origin, so the SyncProvider can tell them from local typing
 * (`replicaOrigins`): it leaves them to its next resync instead of sending them live as its own.
 *
 * Edit pages only: a view page keeps nothing of the document beyond what it shows (SPEC R38).
 */
export class TabChannel {
  readonly #doc: Y.Doc
  readonly #channel: BroadcastChannel
  #isDestroyed = false

  constructor(doc: Y.Doc, name: string) {
    this.#doc = doc
    this.#channel = new BroadcastChannel(name)
    this.#channel.addEventListener('message', this.#onMessage)
    doc.on('update', this.#onUpdate)
    // A joining tab asks for what it lacks and offers all it has; tabs that answer never ask
    // back, so both halves are needed for tabs that were offline apart to converge.
    this.#post({ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) })
    this.#post({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) })
  }

  destroy(): void {
    if (this.#isDestroyed) return
    this.#isDestroyed = true
    this.#doc.off('update', this.#onUpdate)
    this.#channel.removeEventListener('message', this.#onMessage)
    this.#channel.close()
  }

  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    // Everything else goes out: local typing, the server's updates (another tab may be offline
    // while this one is connected) and what IndexedDB loaded.
    if (origin !== this) this.#post({ type: 'sync-update', update })
  }

  readonly #onMessage = (event: MessageEvent<unknown>): void => {
    const message = readMessage(event.data)
    if (message === null) return
    switch (message.type) {
      case 'sync-step1':
        this.#post({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.#doc, message.stateVector) })
        return
      case 'sync-step2':
      case 'sync-update':
        Y.applyUpdate(this.#doc, message.update, this)
        return
      case 'awareness':
      case 'query-awareness':
      case 'auth-denied':
      case 'saved':
      case 'persistence':
      case 'ping':
      case 'pong':
        // Presence travels through the server only; the rest is the server's to send.
        return
    }
  }

  #post(message: Message): void {
    if (!this.#isDestroyed) this.#channel.postMessage(encodeMessage(message))
  }
}

/** The tab channel of `docId`, or null where the browser has no BroadcastChannel. */
export function openTabChannel(doc: Y.Doc, docId: string): TabChannel | null {
  return typeof BroadcastChannel === 'undefined' ? null : new TabChannel(doc, tabChannelName(docId))
}

export function tabChannelName(docId: string): string {
  return `tandem:${docId}`
}

/**
 * A frame another tab posted, or null for anything else: a tab of an older or newer build may be
 * open on the same origin, and its messages are no reason to break this one.
 */
function readMessage(data: unknown): Message | null {
  if (!(data instanceof Uint8Array)) return null
  try {
    return decodeMessage(data)
  } catch (error) {
    if (error instanceof ProtocolError) return null
    throw error
  }
}
