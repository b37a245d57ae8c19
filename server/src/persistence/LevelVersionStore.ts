import type { LevelStore } from './LevelStore.ts'
import { metaOf } from './MemoryVersionStore.ts'
import {
  droppedByRetention,
  versionId,
  type NewVersion,
  type VersionMeta,
  type VersionStore,
} from './VersionStore.ts'

/** A binary keyspace of the documents' database (LevelStore.binarySublevel). */
export type VersionKeyspace = ReturnType<LevelStore['binarySublevel']>

/**
 * Versions in the documents' LevelDB (docs/PROTOCOL.md §5, SPEC R62), in one keyspace `!versions!`:
 * `m!<docId>!<versionId>` holds a VersionMeta as JSON, `s!<docId>!<versionId>` the state, so a
 * listing reads metadata only. A version, its meta and what the retention rule drops go in one
 * batch. Writes pass the database's write guard (R57): after a failed write they are refused
 * until the database has been reopened. Writes run one at a time, so two inserts of a document
 * never pick the same id or miss each other's retention.
 */
export class LevelVersionStore implements VersionStore {
  readonly #db: VersionKeyspace
  readonly #now: () => number
  readonly #syncWrites: boolean
  #writeChain: Promise<unknown> = Promise.resolve()

  constructor(db: VersionKeyspace, options: { syncWrites: boolean; now?: () => number }) {
    this.#db = db
    this.#syncWrites = options.syncWrites
    this.#now = options.now ?? Date.now
  }

  add(docId: string, version: NewVersion): Promise<VersionMeta> {
    return this.#serialize(async () => {
      const now = this.#now()
      const existing = await this.#metas(docId)
      const meta = metaOf(versionId(now, existing.at(-1)?.id), now, version)
      const ops: Array<{ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }> = [
        { type: 'put', key: stateKey(docId, meta.id), value: version.state },
        { type: 'put', key: metaKey(docId, meta.id), value: encodeMeta(meta) },
      ]
      for (const id of droppedByRetention([...existing, meta], now)) {
        ops.push({ type: 'del', key: stateKey(docId, id) }, { type: 'del', key: metaKey(docId, id) })
      }
      await this.#db.batch(ops, this.#batchOptions)
      return meta
    })
  }

  async list(docId: string): Promise<VersionMeta[]> {
    return (await this.#metas(docId)).reverse()
  }

  async get(docId: string, id: string): Promise<{ meta: VersionMeta; state: Uint8Array } | null> {
    const [meta, state] = await this.#db.getMany([metaKey(docId, id), stateKey(docId, id)])
    if (!meta || !state) return null
    // A plain Uint8Array view: classic-level hands out Buffers.
    return { meta: decodeMeta(meta), state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength) }
  }

  deleteAll(docId: string): Promise<void> {
    return this.#serialize(async () => {
      const ops: Array<{ type: 'del'; key: string }> = []
      for (const prefix of ['m', 's']) {
        for await (const key of this.#db.keys(range(prefix, docId))) ops.push({ type: 'del', key })
      }
      if (ops.length > 0) await this.#db.batch(ops, this.#batchOptions)
    })
  }

  /** The document's version metadata, oldest first. */
  async #metas(docId: string): Promise<VersionMeta[]> {
    const metas: VersionMeta[] = []
    for await (const value of this.#db.values(range('m', docId))) metas.push(decodeMeta(value))
    return metas
  }

  /** `sync` reaches classic-level through the sublevel; its typings do not list it. */
  get #batchOptions(): object {
    return { sync: this.#syncWrites }
  }

  #serialize<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#writeChain.then(job, job)
    this.#writeChain = result.catch(() => undefined)
    return result
  }
}

function metaKey(docId: string, id: string): string {
  return `m!${docId}!${id}`
}

function stateKey(docId: string, id: string): string {
  return `s!${docId}!${id}`
}

/** Keys of one document only: doc ids never contain `!` (R3), and `"` sorts right after `!`. */
function range(prefix: string, docId: string): { gte: string; lt: string } {
  return { gte: `${prefix}!${docId}!`, lt: `${prefix}!${docId}"` }
}

function encodeMeta(meta: VersionMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta))
}

function decodeMeta(bytes: Uint8Array): VersionMeta {
  return JSON.parse(new TextDecoder().decode(bytes)) as VersionMeta
}
