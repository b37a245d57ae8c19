import { clearDocument, IndexeddbPersistence } from 'y-indexeddb'
import type * as Y from 'yjs'
import { openTabChannel, type TabChannel } from './tabChannel.ts'

/**
 * How long the page waits for IndexedDB before it connects without it. Loading takes milliseconds;
 * a broken or blocked IndexedDB (another tab upgrading it, storage disabled) must not keep the
 * document from opening. What loads later still shows, and reaches the server at the next resync.
 */
export const LOCAL_LOAD_TIMEOUT_MS = 1_500

/**
 * This browser's copies of a document besides the page's own Y.Doc (SPEC R12): IndexedDB, where
 * every update is kept so edits survive closing the tab, a reload or a crash while offline, and the
 * other tabs open on it. Edit links only.
 */
export interface LocalReplica {
  /**
   * Transaction origins of updates another copy wrote into the Y.Doc: the SyncProvider's
   * `replicaOrigins`. They were typed elsewhere (an earlier page load, another tab), so they reach
   * the server in a resync, never as this connection's live edits.
   */
  readonly origins: readonly unknown[]
  /** Whether IndexedDB loaded the document in time and keeps its updates from now on. */
  readonly isStored: boolean
  /** Stops keeping and sharing the document; the stored copy stays for the next page load. */
  destroy(): void
  /** The document is gone (4404): stops keeping it and deletes the stored copy. */
  forget(): Promise<void>
}

/**
 * Loads `doc` from IndexedDB (at most `loadTimeoutMs`), then joins the other tabs. Call it before
 * the SyncProvider exists: its first resync must carry the edits a previous page load kept. Never
 * rejects; where IndexedDB is missing or broken the replica only shares between tabs.
 */
export async function openLocalReplica(
  doc: Y.Doc,
  docId: string,
  { loadTimeoutMs = LOCAL_LOAD_TIMEOUT_MS }: { loadTimeoutMs?: number } = {},
): Promise<LocalReplica> {
  const persistence =
    typeof indexedDB === 'undefined' ? null : new IndexeddbPersistence(localReplicaName(docId), doc)
  const isStored = persistence !== null && (await settlesWithin(persistence.whenSynced, loadTimeoutMs))
  // Joined after loading, so the first message to the other tabs already offers what was kept.
  const channel = doc.isDestroyed ? null : openTabChannel(doc, docId)
  return new BrowserReplica(docId, persistence, channel, isStored)
}

/** Deletes the stored copy of `docId`, if this browser has one (the document is gone: 4404). */
export async function deleteLocalReplica(docId: string): Promise<void> {
  if (typeof indexedDB !== 'undefined') await clearDocument(localReplicaName(docId))
}

/** One IndexedDB database per document. */
export function localReplicaName(docId: string): string {
  return `tandem:${docId}`
}

class BrowserReplica implements LocalReplica {
  readonly origins: readonly unknown[]
  #isDestroyed = false

  constructor(
    private readonly docId: string,
    private readonly persistence: IndexeddbPersistence | null,
    private readonly channel: TabChannel | null,
    readonly isStored: boolean,
  ) {
    this.origins = [persistence, channel].filter((origin) => origin !== null)
  }

  destroy(): void {
    void this.#close()
  }

  async forget(): Promise<void> {
    // Closed first: a database with an open connection is deleted only once that closes.
    await this.#close()
    await deleteLocalReplica(this.docId)
  }

  async #close(): Promise<void> {
    if (this.#isDestroyed) return
    this.#isDestroyed = true
    this.channel?.destroy()
    // y-indexeddb closes the database once it has opened; one that never opened has nothing to close.
    await this.persistence?.destroy().catch(() => undefined)
  }
}

/** Whether `promise` resolved within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
