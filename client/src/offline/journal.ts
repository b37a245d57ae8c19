import { encodeBase64Url } from '@tandem/shared'
import * as Y from 'yjs'
import {
  encodeJournalEntry,
  forgetJournals,
  joinJournalEntries,
  journalKey,
  journalKeysOf,
  readJournal,
  type JournalStorage,
} from './journalStorage.ts'
import type { PageLocks } from './pageLocks.ts'

/**
 * Makes `update` durable in IndexedDB: resolves once a committed transaction holds it, rejects
 * when that cannot be shown (IndexedDB not open yet, the transaction aborted).
 */
export type DurableWrite = (update: Uint8Array) => Promise<void>

export interface JournalOptions {
  readonly storage: JournalStorage
  readonly write: DurableWrite
  readonly locks: PageLocks
  /** Origins of updates kept elsewhere already: IndexedDB's own loads, the other tabs. */
  readonly skipOrigins?: readonly unknown[]
  /** A checkpoint follows this long after the last update. */
  readonly checkpointDelayMs?: number
  /** This page's part of the storage key; random by default. */
  readonly pageId?: string
}

/** Writing into IndexedDB is batched: one checkpoint this long after the last keystroke. */
export const CHECKPOINT_DELAY_MS = 250
/** Past this size the journal's entries are merged into one (and again each time it doubles). */
export const MERGE_AT_CHARS = 4 * 1024
/**
 * A page stops writing its journal past this size (or when localStorage is full) until a
 * checkpoint empties it: localStorage is one small quota shared by every document, the writer
 * keys and the identity, and typing must never fail because of it. 256 Ki characters of base64
 * hold well over 100 000 typed characters once merged.
 */
export const MAX_JOURNAL_CHARS = 256 * 1024

const PAGE_ID_BYTES = 16

interface Entry {
  /** The highest update number this entry holds (merged entries hold a range). */
  readonly seq: number
  readonly update: Uint8Array
  readonly text: string
}

/** Another page's journal, taken over: its key, the value read, and the entry holding it. */
interface Adopted {
  readonly key: string
  readonly value: string
  readonly seq: number
}

/**
 * Where the checkpoint is. `isClosing` marks a write started by destroy(): when it settles, the
 * page's lock goes and what is still journaled waits for a later page load.
 */
type Checkpoint =
  | { readonly kind: 'idle' }
  | { readonly kind: 'waiting'; readonly timer: ReturnType<typeof setTimeout> }
  | { readonly kind: 'writing'; readonly upToSeq: number; readonly isClosing: boolean }
  | { readonly kind: 'closed' }

/**
 * A synchronous write-ahead journal in front of IndexedDB (SPEC R38). y-indexeddb writes each
 * update in its own asynchronous transaction, and closing or reloading the tab aborts those still
 * in flight: a reload straight after typing kept 1 key in 15. So every local update is first
 * appended, synchronously, to localStorage, and stays there until a checkpoint has written it into
 * IndexedDB in a transaction that committed. A later page load applies whatever a page that is
 * gone left in its journal.
 *
 * The checkpoint writes the journal's updates itself rather than trusting y-indexeddb's writes
 * to have landed: a later transaction completing proves the earlier ones finished, not that they
 * committed (one that aborted, on a full disk say, would otherwise clear the journal of updates
 * IndexedDB never got). Yjs updates are idempotent, so IndexedDB holding them twice is harmless;
 * y-indexeddb merges its store every 500 entries.
 */
export class Journal {
  readonly key: string
  readonly #doc: Y.Doc
  readonly #storage: JournalStorage
  readonly #write: DurableWrite
  readonly #release: () => void
  readonly #skipOrigins: Set<unknown>
  readonly #delayMs: number
  #entries: Entry[] = []
  #seq = 0
  #chars = 0
  #charsAfterMerge = 0
  /** False after localStorage refused a write or the bound was reached; a checkpoint resets it. */
  #isWritable = true
  #checkpoint: Checkpoint = { kind: 'idle' }
  /** Journals of pages that are gone, applied here: removed once a checkpoint covers `seq`. */
  #adopted: Adopted[] = []

  constructor(doc: Y.Doc, key: string, release: () => void, options: JournalOptions) {
    this.#doc = doc
    this.key = key
    this.#release = release
    this.#storage = options.storage
    this.#write = options.write
    // Local typing may come with no origin at all: null is never skipped.
    this.#skipOrigins = new Set([this, ...(options.skipOrigins ?? [])].filter((origin) => origin != null))
    this.#delayMs = options.checkpointDelayMs ?? CHECKPOINT_DELAY_MS
    doc.on('update', this.#onUpdate)
  }

  /** Whether localStorage currently takes every update (false: full, or over the bound). */
  get isWritable(): boolean {
    return this.#isWritable
  }

  /** Updates journaled and not yet known to be in IndexedDB (merged entries count once). */
  get pendingEntries(): number {
    return this.#entries.length
  }

  /**
   * Updates with `origin` are not journaled: the server's (they are durable there), and those of
   * any other copy that keeps them itself. Returns the disposer.
   */
  skipOrigin(origin: unknown): () => void {
    if (origin == null) return () => undefined
    this.#skipOrigins.add(origin)
    return () => void this.#skipOrigins.delete(origin)
  }

  /** Starts a checkpoint now: the page is being hidden, or IndexedDB has just opened. */
  checkpointNow(): void {
    const checkpoint = this.#checkpoint
    switch (checkpoint.kind) {
      case 'waiting':
        clearTimeout(checkpoint.timer)
        this.#startCheckpoint(false)
        return
      case 'idle':
        if (this.#entries.length > 0) this.#startCheckpoint(false)
        return
      case 'writing':
      case 'closed':
        return
    }
  }

  /**
   * Stops journaling. What is journaled gets one last checkpoint (started now, so it is queued in
   * IndexedDB before the database closes); what that does not cover stays in localStorage for the
   * next page load, which may take it once this page's lock is released.
   */
  destroy(): void {
    this.#doc.off('update', this.#onUpdate)
    const checkpoint = this.#checkpoint
    switch (checkpoint.kind) {
      case 'waiting':
        clearTimeout(checkpoint.timer)
        this.#startCheckpoint(true)
        return
      case 'idle':
        this.#startCheckpoint(true)
        return
      case 'writing':
        this.#checkpoint = { ...checkpoint, isClosing: true }
        return
      case 'closed':
        return
    }
  }

  /** The document is gone (4404): stops, and removes every journal this browser has of it. */
  forget(docId: string): void {
    this.#doc.off('update', this.#onUpdate)
    if (this.#checkpoint.kind === 'waiting') clearTimeout(this.#checkpoint.timer)
    const wasClosed = this.#checkpoint.kind === 'closed'
    this.#checkpoint = { kind: 'closed' }
    this.#entries = []
    forgetJournals(this.#storage, docId)
    if (!wasClosed) this.#release()
  }

  /**
   * Applies the other journals of the document, with this journal as origin. Those of pages that
   * are gone it takes over: they stay in this page's journal until a checkpoint has them in
   * IndexedDB, and are removed then. Those of pages still open are left to them — also a page a
   * reload has just replaced whose lock the browser has not released yet: its journal stays for a
   * later page load, and nothing is lost.
   */
  async adoptOrphans(docId: string, locks: PageLocks): Promise<void> {
    const applied: Uint8Array[] = []
    const taken: Uint8Array[] = []
    const takenKeys: Array<{ key: string; value: string }> = []
    for (const key of journalKeysOf(this.#storage, docId)) {
      if (key === this.key) continue
      const isLive = await locks.isHeld(key)
      const value = this.#storage.getItem(key)
      if (value === null) continue
      const updates = readJournal(value)
      applied.push(...updates)
      if (isLive) continue
      taken.push(...updates)
      // Keys with nothing readable are removed by the next checkpoint as well.
      takenKeys.push({ key, value })
    }
    if (applied.length > 0) {
      this.#doc.transact(() => {
        for (const update of applied) Y.applyUpdate(this.#doc, update)
      }, this)
    }
    if (taken.length > 0) this.#append(Y.mergeUpdates(taken))
    for (const { key, value } of takenKeys) this.#adopted.push({ key, value, seq: this.#seq })
    if (takenKeys.length > 0) this.#schedule()
  }

  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.#skipOrigins.has(origin)) return
    this.#append(update)
    this.#schedule()
  }

  #append(update: Uint8Array): void {
    this.#seq += 1
    const entry = entryOf(this.#seq, update)
    this.#entries.push(entry)
    this.#chars += entry.text.length + 1
    if (this.#entries.length > 1 && this.#chars > Math.max(MERGE_AT_CHARS, 2 * this.#charsAfterMerge)) {
      this.#entries = [entryOf(this.#seq, Y.mergeUpdates(this.#entries.map((entry) => entry.update)))]
      this.#chars = charsOf(this.#entries)
      this.#charsAfterMerge = this.#chars
    }
    this.#save()
  }

  /**
   * Writes the entries to localStorage. Never throws: an update handler that threw would break
   * the editor's transaction. A refused write leaves the last stored value, an older part of the
   * journal, which is still worth applying.
   */
  #save(): void {
    if (!this.#isWritable) return
    if (this.#chars > MAX_JOURNAL_CHARS) {
      this.#isWritable = false
      return
    }
    try {
      if (this.#entries.length === 0) this.#storage.removeItem(this.key)
      else this.#storage.setItem(this.key, joinJournalEntries(this.#entries.map((entry) => entry.text)))
    } catch {
      // QuotaExceededError, or storage blocked since the page opened: keep editing without it.
      this.#isWritable = false
    }
  }

  #schedule(): void {
    const checkpoint = this.#checkpoint
    switch (checkpoint.kind) {
      case 'waiting':
        clearTimeout(checkpoint.timer)
        break
      case 'idle':
        break
      case 'writing':
      case 'closed':
        // A write that settles schedules the next one if entries remain.
        return
    }
    this.#checkpoint = {
      kind: 'waiting',
      timer: setTimeout(() => this.#startCheckpoint(false), this.#delayMs),
    }
  }

  #startCheckpoint(isClosing: boolean): void {
    if (this.#entries.length === 0 && this.#adopted.length === 0) {
      this.#checkpoint = isClosing ? this.#close() : { kind: 'idle' }
      return
    }
    const upToSeq = this.#seq
    this.#checkpoint = { kind: 'writing', upToSeq, isClosing }
    const updates = this.#entries.map((entry) => entry.update)
    let written: Promise<void>
    try {
      written = updates.length === 0 ? Promise.resolve() : this.#write(Y.mergeUpdates(updates))
    } catch (error) {
      written = Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    written.then(
      () => this.#settle(upToSeq, true),
      () => this.#settle(upToSeq, false),
    )
  }

  /**
   * A checkpoint's write settled. Written: entries up to `upToSeq` are in IndexedDB, and leave the
   * journal; a journal that was full may be written again. Not written: everything stays, and the
   * next update (or checkpointNow) tries again, so a broken IndexedDB is not polled.
   */
  #settle(upToSeq: number, isWritten: boolean): void {
    const checkpoint = this.#checkpoint
    if (checkpoint.kind !== 'writing') return
    if (isWritten) {
      this.#entries = this.#entries.filter((entry) => entry.seq > upToSeq)
      this.#chars = charsOf(this.#entries)
      this.#charsAfterMerge = Math.min(this.#charsAfterMerge, this.#chars)
      this.#isWritable = true
      this.#save()
      this.#removeAdopted(upToSeq)
    }
    if (checkpoint.isClosing) {
      this.#checkpoint = this.#close()
      return
    }
    this.#checkpoint = { kind: 'idle' }
    if (isWritten && this.#entries.length > 0) this.#schedule()
  }

  /** Removes adopted journals now in IndexedDB, unless their page (no lock: not gone) rewrote them. */
  #removeAdopted(upToSeq: number): void {
    const remaining: Adopted[] = []
    for (const adopted of this.#adopted) {
      if (adopted.seq > upToSeq) remaining.push(adopted)
      else if (this.#storage.getItem(adopted.key) === adopted.value) this.#storage.removeItem(adopted.key)
    }
    this.#adopted = remaining
  }

  #close(): Checkpoint {
    this.#release()
    return { kind: 'closed' }
  }
}

/**
 * Starts journaling `doc` for this page: takes the page's lock, then applies and takes over the
 * journals of pages of this document that are gone. Call it once IndexedDB has loaded, before
 * the SyncProvider connects: its first resync then carries what those pages journaled.
 */
export async function openJournal(doc: Y.Doc, docId: string, options: JournalOptions): Promise<Journal> {
  const key = journalKey(docId, options.pageId ?? randomPageId())
  const release = await options.locks.hold(key)
  const journal = new Journal(doc, key, release, options)
  await journal.adoptOrphans(docId, options.locks)
  return journal
}

function entryOf(seq: number, update: Uint8Array): Entry {
  return { seq, update, text: encodeJournalEntry(update) }
}

/** The stored value's length (joinJournalEntries): each entry's line and its separator. */
function charsOf(entries: readonly Entry[]): number {
  return entries.reduce((sum, entry) => sum + entry.text.length + 1, 0)
}

function randomPageId(): string {
  return encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(PAGE_ID_BYTES)))
}
