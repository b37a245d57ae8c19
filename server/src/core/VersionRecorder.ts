import type { NewVersion, VersionCause, VersionMeta, VersionStore } from '../persistence/VersionStore.ts'

export interface VersionRecorderOptions {
  /** A version is taken once a changed document has had no durable edit for this long (R62). */
  readonly pauseMs: number
  /** The document's whole state now (what a new client receives); rejects if it cannot be had. */
  readonly stateOf: (docId: string) => Promise<Uint8Array>
  /** An automatic version could not be taken; the document stays marked changed (STYLE.md 5). */
  readonly onError: (docId: string, error: unknown) => void
}

/** The versions taken on request rather than by the recorder itself. */
export type RecordedKind =
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'auto'; readonly cause: 'before-restore' }

/** What the recorder knows of one document with changes since its last version. */
interface Pending {
  /** Durable edits since the last version. */
  isChanged: boolean
  /** Who wrote them (display names). */
  readonly authors: Set<string>
  timer: NodeJS.Timeout | null
  /** When the last durable edit was reported (ms since the epoch). */
  lastChangedAt: number
  /** Recordings of this document run one at a time, in order. */
  chain: Promise<unknown>
}

/**
 * Takes the automatic versions of SPEC R62 and records the asked-for ones, on the VersionStore
 * port (no sockets, no database here). Fed by the composition root: `changed` when edits are
 * durable (with who made them), `editorsGone` when a room's last editor left. A changed document
 * gets a version after `pauseMs` without an edit, and at once when its last editor leaves. Its
 * timers are unref'd and cleared by `close`, so they never keep a stopped server alive.
 */
export class VersionRecorder {
  readonly #versions: VersionStore
  readonly #options: VersionRecorderOptions
  readonly #docs = new Map<string, Pending>()
  #isClosed = false

  constructor(versions: VersionStore, options: VersionRecorderOptions) {
    this.#versions = versions
    this.#options = options
  }

  /** Edits of `docId` by `authors` are durable: a version follows after the pause. */
  changed(docId: string, authors: readonly string[]): void {
    if (this.#isClosed) return
    const pending = this.#pending(docId)
    pending.isChanged = true
    for (const author of authors) pending.authors.add(author)
    pending.lastChangedAt = Date.now()
    // One timer per document, not one per batch of edits: when it fires early (edits came since it
    // was set) it waits for the rest of the pause.
    if (!pending.timer) this.#armPause(docId, pending, this.#options.pauseMs)
  }

  #armPause(docId: string, pending: Pending, delayMs: number): void {
    pending.timer = setTimeout(() => {
      pending.timer = null
      if (this.#isClosed) return
      const quietMs = Date.now() - pending.lastChangedAt
      if (quietMs < this.#options.pauseMs) this.#armPause(docId, pending, this.#options.pauseMs - quietMs)
      else void this.#recordAuto(docId, 'pause')
    }, delayMs)
    pending.timer.unref()
  }

  /** The document's last editor left: its changes get their version now rather than after the pause. */
  editorsGone(docId: string): void {
    if (!this.#isClosed && this.#docs.get(docId)?.isChanged) void this.#recordAuto(docId, 'left')
  }

  /**
   * Records a version of the current state now (a named one, or "before restore"): it covers the
   * changes since the last version, so their automatic one is not taken. `state`: the state to
   * store, if the caller already read it. Rejects if it failed.
   */
  record(docId: string, kind: RecordedKind, state?: Uint8Array): Promise<VersionMeta> {
    return this.#enqueue(docId, async (pending) => {
      const taken = take(pending)
      try {
        const stored = state ?? (await this.#options.stateOf(docId))
        const authors = [...taken.authors]
        const version: NewVersion =
          kind.kind === 'named'
            ? { kind: 'named', name: kind.name, authors, state: stored }
            : { kind: 'auto', cause: kind.cause, authors, state: stored }
        return await this.#versions.add(docId, version)
      } catch (error) {
        restore(pending, taken)
        throw error
      }
    })
  }

  /** Forgets the document (it is being deleted): resolves once no recording of it is in flight. */
  async forget(docId: string): Promise<void> {
    const pending = this.#docs.get(docId)
    if (!pending) return
    if (pending.timer) clearTimeout(pending.timer)
    pending.timer = null
    pending.isChanged = false
    await pending.chain.catch(() => undefined)
    if (this.#docs.get(docId) === pending) this.#docs.delete(docId)
  }

  /**
   * At shutdown, before the rooms unload: every changed document gets its version now, then
   * timers are cleared and recordings awaited. Later calls do nothing.
   */
  async close(): Promise<void> {
    if (this.#isClosed) return
    for (const [docId, pending] of this.#docs) if (pending.isChanged) void this.#recordAuto(docId, 'shutdown')
    this.#isClosed = true
    for (const pending of this.#docs.values()) {
      if (pending.timer) clearTimeout(pending.timer)
      pending.timer = null
    }
    await Promise.all([...this.#docs.values()].map((pending) => pending.chain.catch(() => undefined)))
  }

  #recordAuto(docId: string, cause: VersionCause): Promise<void> {
    return this.#enqueue(docId, async (pending) => {
      if (pending.timer) clearTimeout(pending.timer)
      pending.timer = null
      // Another recording in the queue may have covered the changes already.
      if (!pending.isChanged) return
      const taken = take(pending)
      try {
        const state = await this.#options.stateOf(docId)
        await this.#versions.add(docId, { kind: 'auto', cause, authors: [...taken.authors], state })
      } catch (error) {
        // Kept changed: the next edit's pause, the last editor leaving or the shutdown tries again.
        restore(pending, taken)
        this.#options.onError(docId, error)
      }
    }).catch(() => undefined)
  }

  #enqueue<T>(docId: string, job: (pending: Pending) => Promise<T>): Promise<T> {
    const pending = this.#pending(docId)
    const result = pending.chain.then(
      () => job(pending),
      () => job(pending),
    )
    const chain = result.catch(() => undefined)
    pending.chain = chain
    // The map holds only documents with something pending: one with nothing left is dropped.
    void chain.then(() => {
      const isIdle = pending.chain === chain && !pending.isChanged && !pending.timer
      if (isIdle && this.#docs.get(docId) === pending) this.#docs.delete(docId)
    })
    return result
  }

  #pending(docId: string): Pending {
    let pending = this.#docs.get(docId)
    if (!pending) {
      pending = {
        isChanged: false,
        authors: new Set(),
        timer: null,
        lastChangedAt: 0,
        chain: Promise.resolve(),
      }
      this.#docs.set(docId, pending)
    }
    return pending
  }
}

/** Marks the changes as covered by the version being taken; returns them in case it fails. */
function take(pending: Pending): { isChanged: boolean; authors: string[] } {
  const taken = { isChanged: pending.isChanged, authors: [...pending.authors] }
  pending.isChanged = false
  pending.authors.clear()
  return taken
}

function restore(pending: Pending, taken: { isChanged: boolean; authors: readonly string[] }): void {
  pending.isChanged ||= taken.isChanged
  for (const author of taken.authors) pending.authors.add(author)
}
