import {
  boundedAuthors,
  droppedByRetention,
  versionId,
  type NewVersion,
  type VersionMeta,
  type VersionStore,
} from './VersionStore.ts'

interface StoredVersion {
  readonly meta: VersionMeta
  readonly state: Uint8Array
}

/** In-memory VersionStore for tests and stores without a database; same contract as LevelVersionStore. */
export class MemoryVersionStore implements VersionStore {
  /** Per document, versions oldest first. */
  readonly #docs = new Map<string, StoredVersion[]>()
  readonly #now: () => number

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now
  }

  add(docId: string, version: NewVersion): Promise<VersionMeta> {
    const now = this.#now()
    const versions = this.#docs.get(docId) ?? []
    const meta = metaOf(versionId(now, versions.at(-1)?.meta.id), now, version)
    const next = [...versions, { meta, state: version.state.slice() }]
    const dropped = new Set(
      droppedByRetention(
        next.map((stored) => stored.meta),
        now,
      ),
    )
    this.#docs.set(
      docId,
      next.filter((stored) => !dropped.has(stored.meta.id)),
    )
    return Promise.resolve(meta)
  }

  list(docId: string): Promise<VersionMeta[]> {
    return Promise.resolve((this.#docs.get(docId) ?? []).map((stored) => stored.meta).reverse())
  }

  get(docId: string, id: string): Promise<{ meta: VersionMeta; state: Uint8Array } | null> {
    const stored = this.#docs.get(docId)?.find((candidate) => candidate.meta.id === id)
    return Promise.resolve(stored ? { meta: stored.meta, state: stored.state.slice() } : null)
  }

  deleteAll(docId: string): Promise<void> {
    this.#docs.delete(docId)
    return Promise.resolve()
  }
}

/** The stored metadata of a new version (both implementations build it the same way). */
export function metaOf(id: string, now: number, version: NewVersion): VersionMeta {
  const common = {
    id,
    createdAt: now,
    authors: boundedAuthors(version.authors),
    bytes: version.state.byteLength,
  }
  return version.kind === 'named'
    ? { ...common, kind: 'named', name: version.name }
    : { ...common, kind: 'auto', cause: version.cause }
}
