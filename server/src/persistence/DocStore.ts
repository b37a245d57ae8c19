/**
 * Storage behind one small interface (STYLE.md 4). Every implementation passes the contract suite
 * in server/test/docStoreContract.ts. Implementations never swallow a failed write: the promise
 * rejects and the caller keeps the data (STYLE.md 5, SPEC R8). After a failed write, no write
 * resolves until the store has made sure that what it writes next will survive (SPEC R57).
 */
export interface DocMeta {
  readonly createdAt: number
  readonly updatedAt: number
  /** Bytes of the stored updates (after the last compaction): what a cold load reads. */
  readonly storedBytes: number
  /** Number of stored updates since the last compaction. */
  readonly logLength: number
  /** Bytes of the entry the last compaction wrote (absent before the first). */
  readonly compactedBytes?: number
  /** Monotonic count of updates ever appended; a cheap version number. */
  readonly version: number
  /**
   * Secret per-document key that share-link tokens are bound to; replacing it revokes every
   * link of the document (SPEC R19). Empty for documents written without being created.
   */
  readonly linkKey: string
}

export interface StoredDoc {
  readonly meta: DocMeta
  /** Updates in append order. Applying all of them in order reproduces the document. */
  readonly updates: readonly Uint8Array[]
  /** Yjs client ids bound to a writer key (hash), so only that writer may extend them (R33). */
  readonly writers?: ReadonlyMap<number, string>
}

export interface AppendEntry {
  readonly docId: string
  readonly update: Uint8Array
  /** Client ids this update bound to a writer key: stored in the same batch as the update. */
  readonly writers?: ReadonlyArray<readonly [number, string]>
}

/** One entry of a listing: a document's id and metadata. */
export interface ListedDoc {
  readonly id: string
  readonly meta: DocMeta
}

/**
 * Where a store is in its life (readiness and metrics, SPEC R53, R57):
 * - `open`: reads and writes;
 * - `failing`: a write failed; reads are served, and every write is refused until the store has
 *   recovered (LevelStore: reopened its database), which it retries by itself;
 * - `unavailable`: recovering failed half-way (the database is closed): nothing is served until a
 *   later attempt succeeds;
 * - `closed`: from the start of `close()` on.
 */
export type StoreState = 'open' | 'failing' | 'unavailable' | 'closed'

export interface DocStore {
  readonly state: StoreState
  /** Creates an empty document record with its link key; resolves false if it already exists. */
  create(docId: string, linkKey: string): Promise<boolean>
  /** Replaces the document's link key (reset links). Rejects if the document does not exist. */
  setLinkKey(docId: string, linkKey: string): Promise<void>
  /** The document's metadata, or null when it was never created or written. */
  getMeta(docId: string): Promise<DocMeta | null>
  /** Everything stored for the document, or null when it does not exist. */
  load(docId: string): Promise<StoredDoc | null>
  /**
   * Appends all entries in one atomic write (a group commit): either every entry is durable when
   * the promise resolves, or none is and it rejects. Appending to an unknown document creates it.
   * After any failed write (of any method), appends reject until the store has recovered, so a
   * caller that retries never sees an append resolve that a restart would undo (SPEC R57).
   */
  append(entries: readonly AppendEntry[]): Promise<void>
  /**
   * Removes the document's log and metadata (with its link key) in one atomic write; resolves
   * false if there was nothing to remove. The caller makes sure no write for it is still pending.
   */
  delete(docId: string): Promise<boolean>
  /** Up to `limit` documents in id order, starting after the id `after` (a cursor) if given. */
  list(options: { readonly after?: string | undefined; readonly limit: number }): Promise<ListedDoc[]>
  /**
   * Replaces a log of several entries by `state`, the document's whole state as the caller holds
   * it, if nothing was appended since `version` (else does nothing): a compaction without reading
   * the log back (used at shutdown, so the next start loads one entry). Optional: a store without
   * a log has nothing to compact.
   */
  compactTo?(docId: string, state: Uint8Array, version: number): Promise<void>
  close(): Promise<void>
}
