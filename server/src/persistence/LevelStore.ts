import type { BatchOperation, Level } from 'level'
import * as Y from 'yjs'
import type { AppendEntry, DocMeta, DocStore, ListedDoc, StoreState, StoredDoc } from './DocStore.ts'
import { LevelDatabase, type DatabaseEvent } from './LevelDatabase.ts'
import { emptyMeta } from './MemoryStore.ts'

export interface LevelStoreOptions {
  readonly dir: string
  /** fsync every write (power-loss safe); off means the write is in the OS, safe from kill -9 (R6). */
  readonly syncWrites: boolean
  /** Merge a document's log into one update once it holds this many entries (R5). */
  readonly compactAfterEntries: number
  readonly now?: () => number
  /** Told when a write fails and when the database is reopened after it (logs, metrics; R57). */
  readonly onEvent?: (event: DatabaseEvent) => void
}

/** Thrown by `open` when another process holds the database lock. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError'
}

/**
 * LevelDB layout (docs/PROTOCOL.md §5): `log!<docId>!<seq as 12 hex digits>` holds one Yjs update
 * per entry in append order; `meta!<docId>` holds a DocMeta as JSON. Every write is one atomic
 * batch, so log and meta never disagree, also across kill -9 mid-compaction (R5).
 *
 * All writes go through one promise chain: appends and compactions of the same document never
 * interleave, and `#nextSeq` is only touched inside it. Each job first makes sure the database
 * has recovered from any failed write (R57): a job after a failure reopens it or is refused.
 * Every read goes through `LevelDatabase.read`, so a reopen never closes the database under it.
 */
export class LevelStore implements DocStore {
  readonly #database: LevelDatabase
  readonly #db: Level<string, Uint8Array>
  readonly #log
  readonly #meta
  readonly #writers
  readonly #options: LevelStoreOptions
  readonly #now: () => number
  /**
   * Write-side cache of each written document's meta; read inside the write chain only. Emptied
   * when the database is reopened: the next write builds on what the reopened database holds.
   */
  readonly #metaCache: Map<string, DocMeta>
  #writeChain: Promise<unknown> = Promise.resolve()

  private constructor(options: LevelStoreOptions, database: LevelDatabase, metaCache: Map<string, DocMeta>) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#database = database
    this.#metaCache = metaCache
    this.#db = database.level
    this.#log = database.reopens(this.#db.sublevel<string, Uint8Array>('log', { valueEncoding: 'view' }))
    this.#meta = database.reopens(this.#db.sublevel<string, DocMeta>('meta', { valueEncoding: 'json' }))
    this.#writers = database.reopens(this.#db.sublevel<string, string>('writers', { valueEncoding: 'utf8' }))
  }

  static async open(options: LevelStoreOptions): Promise<LevelStore> {
    const metaCache = new Map<string, DocMeta>()
    const onEvent = (event: DatabaseEvent): void => {
      if (event.kind === 'reopened') metaCache.clear()
      options.onEvent?.(event)
    }
    try {
      return new LevelStore(options, await LevelDatabase.open(options.dir, onEvent), metaCache)
    } catch (error) {
      if (isLockError(error)) {
        throw new StoreLockedError(`DATA_DIR ${options.dir} is in use by another Tandem process`)
      }
      throw error
    }
  }

  /**
   * A keyspace of another module in this database (the webhook outbox, docs/PROTOCOL.md §9.6):
   * utf8 keys and values under `!<name>!`, beside `!log!` and `!meta!`. One DATA_DIR, one lock,
   * one backup. Its writes do not go through this store's write chain, but they do go through the
   * database's write guard (R57): refused after a failed write until the database is reopened,
   * which reopens this sublevel too. `close()` closes it.
   */
  sublevel(name: string) {
    return this.#database.reopens(
      this.#db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' }),
    )
  }

  /** Like `sublevel`, with binary values (version history, SPEC R62). */
  binarySublevel(name: string) {
    return this.#database.reopens(
      this.#db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' }),
    )
  }

  get state(): StoreState {
    return this.#database.state
  }

  create(docId: string, linkKey: string): Promise<boolean> {
    return this.#serialize(async () => {
      if (await this.#readMeta(docId)) return false
      await this.#writeMeta(docId, emptyMeta(this.#now(), linkKey))
      return true
    })
  }

  setLinkKey(docId: string, linkKey: string): Promise<void> {
    return this.#serialize(async () => {
      const meta = await this.#readMeta(docId)
      if (!meta) throw new Error(`no document ${docId}`)
      await this.#writeMeta(docId, { ...meta, linkKey })
    })
  }

  async #writeMeta(docId: string, meta: DocMeta): Promise<void> {
    await this.#db.batch<string, Uint8Array | DocMeta | string>(
      [{ type: 'put', sublevel: this.#meta, key: docId, value: meta }],
      { sync: this.#options.syncWrites },
    )
    this.#metaCache.set(docId, meta)
  }

  async getMeta(docId: string): Promise<DocMeta | null> {
    return (await this.#database.read(() => this.#meta.get(docId))) ?? null
  }

  load(docId: string): Promise<StoredDoc | null> {
    return this.#database.read(async () => {
      // One iterator reads from one implicit snapshot, so a concurrent compaction cannot make
      // us see both the merged entry and the entries it replaced, or neither.
      const snapshotMeta = await this.#meta.get(docId)
      if (!snapshotMeta) return null
      const updates: Uint8Array[] = []
      for await (const update of this.#log.values(logRange(docId))) updates.push(update)
      const writers = new Map<number, string>()
      for await (const [key, writerKey] of this.#writers.iterator(logRange(docId))) {
        writers.set(Number(key.slice(docId.length + 1)), writerKey)
      }
      return { meta: snapshotMeta, updates, writers }
    })
  }

  append(entries: readonly AppendEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve()
    return this.#serialize(async () => {
      const now = this.#now()
      const metas = new Map<string, DocMeta>()
      const ops: BatchOp[] = []
      for (const [docId, updates] of groupByDoc(entries)) {
        const before = metas.get(docId) ?? (await this.#readMeta(docId)) ?? emptyMeta(now, '')
        // A batch's updates of one document become one log entry per MERGE_LIMIT: fewer keys to
        // write, compact and load. The version still counts every update.
        let version = before.version
        let storedBytes = before.storedBytes
        let logLength = before.logLength
        for (let start = 0; start < updates.length; start += MERGE_LIMIT) {
          const chunk = updates.slice(start, start + MERGE_LIMIT)
          const value = chunk.length === 1 ? (chunk[0] as Uint8Array) : Y.mergeUpdates(chunk)
          ops.push({ type: 'put', sublevel: this.#log, key: logKey(docId, version), value })
          version += chunk.length
          storedBytes += value.byteLength
          logLength += 1
        }
        metas.set(docId, { ...before, updatedAt: now, storedBytes, logLength, version })
      }
      for (const [docId, meta] of metas)
        ops.push({ type: 'put', sublevel: this.#meta, key: docId, value: meta })
      for (const { docId, writers } of entries) {
        for (const [client, writerKey] of writers ?? []) {
          ops.push({ type: 'put', sublevel: this.#writers, key: `${docId}!${client}`, value: writerKey })
        }
      }
      await this.#db.batch<string, Uint8Array | DocMeta | string>(ops, { sync: this.#options.syncWrites })
      // Only after the batch is durable does the cache move on; a failed batch leaves it as it was.
      for (const [docId, meta] of metas) {
        this.#metaCache.set(docId, meta)
        if (isDueForCompaction(meta, this.#options.compactAfterEntries)) void this.#compactLater(docId)
      }
    })
  }

  /** Merges the document's log into one entry in one atomic batch (R5). */
  compact(docId: string): Promise<void> {
    return this.#serialize(async () => {
      const meta = await this.#readMeta(docId)
      if (!meta || meta.logLength <= 1) return
      const keys: string[] = []
      const updates: Uint8Array[] = []
      await this.#database.read(async () => {
        for await (const [key, update] of this.#log.iterator(logRange(docId))) {
          keys.push(key)
          updates.push(update)
        }
      })
      const lastKey = keys.at(-1)
      if (lastKey === undefined) return
      // Applying to a document is linear in the log (Y.mergeUpdates is quadratic in the number of
      // updates) and garbage-collects deleted content, so the merged entry is also smaller.
      const doc = new Y.Doc()
      doc.transact(() => {
        for (const update of updates) Y.applyUpdate(doc, update)
      })
      const merged = Y.encodeStateAsUpdate(doc)
      doc.destroy()
      const compacted: DocMeta = {
        ...meta,
        storedBytes: merged.byteLength,
        logLength: 1,
        compactedBytes: merged.byteLength,
      }
      const ops: BatchOp[] = keys.slice(0, -1).map((key) => ({ type: 'del', sublevel: this.#log, key }))
      ops.push({ type: 'put', sublevel: this.#log, key: lastKey, value: merged })
      ops.push({ type: 'put', sublevel: this.#meta, key: docId, value: compacted })
      await this.#db.batch<string, Uint8Array | DocMeta | string>(ops, { sync: this.#options.syncWrites })
      this.#metaCache.set(docId, compacted)
    })
  }

  compactTo(docId: string, state: Uint8Array, version: number): Promise<void> {
    return this.#serialize(async () => {
      const meta = await this.#readMeta(docId)
      if (!meta || meta.version !== version || meta.logLength <= 1) return
      const keys = await this.#database.read(() => this.#log.keys(logRange(docId)).all())
      const lastKey = keys.at(-1)
      if (lastKey === undefined) return
      const compacted: DocMeta = {
        ...meta,
        storedBytes: state.byteLength,
        logLength: 1,
        compactedBytes: state.byteLength,
      }
      const ops: BatchOp[] = keys.slice(0, -1).map((key) => ({ type: 'del', sublevel: this.#log, key }))
      ops.push({ type: 'put', sublevel: this.#log, key: lastKey, value: state })
      ops.push({ type: 'put', sublevel: this.#meta, key: docId, value: compacted })
      await this.#db.batch<string, Uint8Array | DocMeta | string>(ops, { sync: this.#options.syncWrites })
      this.#metaCache.set(docId, compacted)
    })
  }

  /** Log entries and meta go in one atomic batch: a crash leaves the document whole or gone. */
  delete(docId: string): Promise<boolean> {
    return this.#serialize(async () => {
      const meta = await this.#readMeta(docId)
      const ops: BatchOp[] = []
      await this.#database.read(async () => {
        for await (const key of this.#log.keys(logRange(docId)))
          ops.push({ type: 'del', sublevel: this.#log, key })
        for await (const key of this.#writers.keys(logRange(docId)))
          ops.push({ type: 'del', sublevel: this.#writers, key })
      })
      if (!meta && ops.length === 0) return false
      ops.push({ type: 'del', sublevel: this.#meta, key: docId })
      await this.#db.batch<string, Uint8Array | DocMeta | string>(ops, { sync: this.#options.syncWrites })
      this.#metaCache.delete(docId)
      return true
    })
  }

  list({ after, limit }: { after?: string | undefined; limit: number }): Promise<ListedDoc[]> {
    const range = after === undefined ? { limit } : { gt: after, limit }
    return this.#database.read(async () => {
      const result: ListedDoc[] = []
      for await (const [id, meta] of this.#meta.iterator(range)) result.push({ id, meta })
      return result
    })
  }

  async close(): Promise<void> {
    await this.#writeChain.catch(() => undefined)
    await this.#database.close()
  }

  async #compactLater(docId: string): Promise<void> {
    try {
      await this.compact(docId)
    } catch {
      // A failed compaction loses nothing: the log is intact, the database turned `failing` (the
      // next write reopens it first, R57), and the next append that is due retries the compaction.
    }
  }

  async #readMeta(docId: string): Promise<DocMeta | undefined> {
    const cached = this.#metaCache.get(docId)
    if (cached) return cached
    const stored = await this.#database.read(() => this.#meta.get(docId))
    if (stored) this.#metaCache.set(docId, stored)
    return stored
  }

  #serialize<T>(job: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      await this.#database.recover()
      return job()
    }
    const result = this.#writeChain.then(run, run)
    this.#writeChain = result.catch(() => undefined)
    return result
  }
}

/** One op of a batch that spans the log (bytes) and meta (JSON) sublevels. */
type BatchOp = BatchOperation<Level<string, Uint8Array>, string, Uint8Array | DocMeta | string>

/** Updates merged into one log entry at most: Y.mergeUpdates grows faster than linearly. */
const MERGE_LIMIT = 64

/** The updates of each document, in order, documents in order of first appearance. */
function groupByDoc(entries: readonly AppendEntry[]): Map<string, Uint8Array[]> {
  const byDoc = new Map<string, Uint8Array[]>()
  for (const { docId, update } of entries) {
    const updates = byDoc.get(docId)
    if (updates) updates.push(update)
    else byDoc.set(docId, [update])
  }
  return byDoc
}

function logKey(docId: string, seq: number): string {
  return `${docId}!${seq.toString(16).padStart(12, '0')}`
}

/** Keys of one document only: doc ids never contain `!` (R3), and `"` sorts right after `!`. */
function logRange(docId: string): { gte: string; lt: string } {
  return { gte: `${docId}!`, lt: `${docId}"` }
}

function isLockError(error: unknown): boolean {
  const cause = error instanceof Error ? (error as Error & { cause?: { code?: string } }).cause : undefined
  return cause?.code === 'LEVEL_LOCKED'
}

/**
 * A log is compacted once it has `afterEntries` entries and has grown by half the size of the
 * last compaction: a large document is re-encoded after a proportionate amount of new edits, not
 * every few hundred keystrokes, so the work stays linear in what is written (issue 6).
 */
function isDueForCompaction(meta: DocMeta, afterEntries: number): boolean {
  if (meta.logLength < afterEntries) return false
  const compacted = meta.compactedBytes ?? 0
  return (meta.storedBytes - compacted) * 2 >= compacted
}
