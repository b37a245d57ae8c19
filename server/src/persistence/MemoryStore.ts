import type { AppendEntry, DocMeta, DocStore, ListedDoc, StoreState, StoredDoc } from './DocStore.ts'

interface MemoryDoc {
  meta: DocMeta
  updates: Uint8Array[]
  writers: Map<number, string>
}

/** In-memory DocStore for tests and ephemeral runs; same contract as LevelStore. Its writes never fail. */
export class MemoryStore implements DocStore {
  readonly #docs = new Map<string, MemoryDoc>()
  readonly #now: () => number
  #state: StoreState = 'open'

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now
  }

  get state(): StoreState {
    return this.#state
  }

  create(docId: string, linkKey: string): Promise<boolean> {
    if (this.#docs.has(docId)) return Promise.resolve(false)
    this.#docs.set(docId, { meta: emptyMeta(this.#now(), linkKey), updates: [], writers: new Map() })
    return Promise.resolve(true)
  }

  setLinkKey(docId: string, linkKey: string): Promise<void> {
    const doc = this.#docs.get(docId)
    if (!doc) return Promise.reject(new Error(`no document ${docId}`))
    doc.meta = { ...doc.meta, linkKey }
    return Promise.resolve()
  }

  getMeta(docId: string): Promise<DocMeta | null> {
    return Promise.resolve(this.#docs.get(docId)?.meta ?? null)
  }

  load(docId: string): Promise<StoredDoc | null> {
    const doc = this.#docs.get(docId)
    return Promise.resolve(
      doc ? { meta: doc.meta, updates: [...doc.updates], writers: new Map(doc.writers) } : null,
    )
  }

  append(entries: readonly AppendEntry[]): Promise<void> {
    const now = this.#now()
    for (const { docId, update, writers } of entries) {
      const doc: MemoryDoc = this.#docs.get(docId) ?? {
        meta: emptyMeta(now, ''),
        updates: [],
        writers: new Map(),
      }
      doc.updates.push(update.slice())
      for (const [client, key] of writers ?? []) doc.writers.set(client, key)
      doc.meta = {
        ...doc.meta,
        updatedAt: now,
        storedBytes: doc.meta.storedBytes + update.byteLength,
        logLength: doc.meta.logLength + 1,
        version: doc.meta.version + 1,
      }
      this.#docs.set(docId, doc)
    }
    return Promise.resolve()
  }

  delete(docId: string): Promise<boolean> {
    return Promise.resolve(this.#docs.delete(docId))
  }

  list({ after, limit }: { after?: string | undefined; limit: number }): Promise<ListedDoc[]> {
    const ids = [...this.#docs.keys()].filter((id) => after === undefined || id > after).sort()
    return Promise.resolve(
      ids.slice(0, limit).flatMap((id) => {
        const doc = this.#docs.get(id)
        return doc ? [{ id, meta: doc.meta }] : []
      }),
    )
  }

  close(): Promise<void> {
    this.#state = 'closed'
    return Promise.resolve()
  }
}

export function emptyMeta(now: number, linkKey: string): DocMeta {
  return { createdAt: now, updatedAt: now, storedBytes: 0, logLength: 0, version: 0, linkKey }
}
