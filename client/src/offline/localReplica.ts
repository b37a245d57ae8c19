import { clearDocument, IndexeddbPersistence } from 'y-indexeddb'
import type * as Y from 'yjs'
import { openJournal, type Journal } from './journal.ts'
import { browserJournalStorage, forgetJournals, type JournalStorage } from './journalStorage.ts'
import { browserPageLocks, type PageLocks } from './pageLocks.ts'
import { openTabChannel, type TabChannel } from './tabChannel.ts'

/**
 * How long the page waits for IndexedDB before it connects without it. Loading takes milliseconds;
 * a broken or blocked IndexedDB (another tab upgrading it, storage disabled) must not keep the
 * document from opening. What loads later still shows, and reaches the server at the next resync.
 */
export const LOCAL_LOAD_TIMEOUT_MS = 1_500

/** y-indexeddb's object store of updates (node_modules/y-indexeddb/src/y-indexeddb.js). */
const UPDATES_STORE = 'updates'

/**
 * This browser's copies of a document besides the page's own Y.Doc (SPEC R38): IndexedDB, where
 * every update is kept so edits survive closing the tab, a reload or a crash while offline; the
 * journal in localStorage, which holds each local update until IndexedDB has it; and the other
 * tabs open on it. Edit links only.
 */
export interface LocalReplica {
  /**
   * Transaction origins of updates another copy wrote into the Y.Doc: the SyncProvider's
   * `replicaOrigins`. They were typed elsewhere (an earlier page load, another tab), so they reach
   * the server in a resync, never as this connection's live edits.
   */
  readonly origins: readonly unknown[]
  /**
   * Whether closing the tab loses no edit: IndexedDB loaded the document in time and keeps its
   * updates, and the journal holds those it has not committed yet.
   */
  readonly isKeepingEdits: boolean
  /**
   * Updates with `origin` are durable elsewhere — the SyncProvider's, from the server — and are
   * not journaled. Returns the disposer.
   */
  skipOrigin(origin: unknown): () => void
  /** Stops keeping and sharing the document; the stored copy stays for the next page load. */
  destroy(): void
  /** The document is gone (4404): stops keeping it and deletes the stored copy and the journal. */
  forget(): Promise<void>
}

export interface LocalReplicaOptions {
  readonly loadTimeoutMs?: number
  /** Where the journal goes: localStorage by default; null keeps none. */
  readonly storage?: JournalStorage | null
  readonly locks?: PageLocks
}

/**
 * Loads `doc` from IndexedDB (at most `loadTimeoutMs`), then applies what the journals of pages
 * that are gone hold, then joins the other tabs. Call it before the SyncProvider exists: its first
 * resync must carry the edits a previous page load kept. Never rejects; where IndexedDB is missing
 * or broken the replica keeps edits in the journal only, and where localStorage is too, it only
 * shares between tabs.
 */
export async function openLocalReplica(
  doc: Y.Doc,
  docId: string,
  {
    loadTimeoutMs = LOCAL_LOAD_TIMEOUT_MS,
    storage = browserJournalStorage(),
    locks = browserPageLocks(),
  }: LocalReplicaOptions = {},
): Promise<LocalReplica> {
  const persistence =
    typeof indexedDB === 'undefined' ? null : new IndexeddbPersistence(localReplicaName(docId), doc)
  const isStored = persistence !== null && (await settlesWithin(persistence.whenSynced, loadTimeoutMs))
  const journal =
    storage === null
      ? null
      : await openJournal(doc, docId, {
          storage,
          locks,
          write: (update) => writeUpdate(persistence, update),
          skipOrigins: [persistence],
        }).catch(() => null)
  // IndexedDB that opens after the timeout takes what was journaled meanwhile at once.
  if (journal !== null && persistence !== null && !isStored)
    void persistence.whenSynced.then(() => journal.checkpointNow())
  // Joined last, so the first message to the other tabs already offers what was kept.
  const channel = doc.isDestroyed ? null : openTabChannel(doc, docId)
  // Another tab's edits are in that tab's journal.
  if (channel !== null) journal?.skipOrigin(channel)
  return new BrowserReplica(docId, persistence, journal, channel, isStored && journal !== null)
}

/**
 * Deletes the stored copy and the journals of `docId`, if this browser has any (the document is
 * gone: 4404).
 */
export async function deleteLocalReplica(
  docId: string,
  storage: JournalStorage | null = browserJournalStorage(),
): Promise<void> {
  if (storage !== null) forgetJournals(storage, docId)
  if (typeof indexedDB !== 'undefined') await clearDocument(localReplicaName(docId))
}

/** One IndexedDB database per document. */
export function localReplicaName(docId: string): string {
  return `tandem:${docId}`
}

/**
 * Writes `update` into y-indexeddb's store in a transaction of its own: the journal's checkpoint.
 * Resolves once that transaction has committed, with strict durability, since the journal is
 * cleared on the strength of it.
 */
function writeUpdate(persistence: IndexeddbPersistence | null, update: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = persistence?.db ?? null
    if (db === null) {
      reject(new Error('IndexedDB is not open'))
      return
    }
    // Throws once the database is closing (the page is leaving): the journal keeps the update.
    const transaction = db.transaction(UPDATES_STORE, 'readwrite', { durability: 'strict' })
    transaction.objectStore(UPDATES_STORE).add(update)
    transaction.oncomplete = () => resolve()
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'))
  })
}

class BrowserReplica implements LocalReplica {
  readonly origins: readonly unknown[]
  readonly #disposers: Array<() => void> = []
  #isDestroyed = false

  constructor(
    private readonly docId: string,
    private readonly persistence: IndexeddbPersistence | null,
    private readonly journal: Journal | null,
    private readonly channel: TabChannel | null,
    readonly isKeepingEdits: boolean,
  ) {
    this.origins = [persistence, journal, channel].filter((origin) => origin !== null)
    if (journal !== null && typeof document !== 'undefined') {
      // A hidden page may be discarded without another event (mobile browsers do): checkpoint now.
      const onVisibilityChange = (): void => {
        if (document.visibilityState === 'hidden') journal.checkpointNow()
      }
      document.addEventListener('visibilitychange', onVisibilityChange)
      this.#disposers.push(() => document.removeEventListener('visibilitychange', onVisibilityChange))
    }
  }

  skipOrigin(origin: unknown): () => void {
    return this.journal?.skipOrigin(origin) ?? (() => undefined)
  }

  destroy(): void {
    this.journal?.destroy()
    void this.#close()
  }

  async forget(): Promise<void> {
    this.journal?.forget(this.docId)
    // Closed first: a database with an open connection is deleted only once that closes.
    await this.#close()
    await deleteLocalReplica(this.docId)
  }

  async #close(): Promise<void> {
    if (this.#isDestroyed) return
    this.#isDestroyed = true
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.channel?.destroy()
    // After the journal's last checkpoint has started: closing waits for transactions under way.
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
