import { metaOf } from '../MemoryVersionStore.ts'
import {
  droppedByRetention,
  versionId,
  type NewVersion,
  type VersionCause,
  type VersionMeta,
  type VersionStore,
} from '../VersionStore.ts'
import type { PgDatabase } from './PgDatabase.ts'

/** Columns of tandem_versions but the state, as `pg` returns them: bigint as a string. */
interface VersionRow {
  readonly id: string
  readonly created_at: string
  readonly kind: 'named' | 'auto'
  readonly name: string | null
  readonly cause: VersionCause | null
  readonly authors: string[]
  readonly bytes: number
}

const META_COLUMNS = 'id, created_at, kind, name, cause, authors, bytes'
/** First key of the two-key advisory locks that queue a document's inserts across nodes. */
const VERSION_LOCK_SPACE = 0x7476

/**
 * Versions in PostgreSQL (docs/PROTOCOL.md §5.1, SPEC R62, R64): one row per version, metadata in
 * columns (a listing never reads a state). A version and what the retention rule drops are one
 * transaction, through PgDatabase's write guard (R57). Inserts of one document queue on an
 * advisory lock, on every node, so two never pick the same id or miss each other's retention.
 */
export class PostgresVersionStore implements VersionStore {
  readonly #db: PgDatabase
  readonly #now: () => number

  constructor(db: PgDatabase, options: { now?: () => number } = {}) {
    this.#db = db
    this.#now = options.now ?? Date.now
  }

  add(docId: string, version: NewVersion): Promise<VersionMeta> {
    return this.#db.write(async (sql) => {
      await sql.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [VERSION_LOCK_SPACE, docId])
      // The clock is read under the lock: ids and retention follow the order inserts commit in.
      const now = this.#now()
      const { rows } = await sql.query<VersionRow>(
        `SELECT ${META_COLUMNS} FROM tandem_versions WHERE doc_id = $1 ORDER BY id`,
        [docId],
      )
      const existing = rows.map(metaFromRow)
      const meta = metaOf(versionId(now, existing.at(-1)?.id), now, version)
      await sql.query(
        `INSERT INTO tandem_versions (doc_id, id, created_at, kind, name, cause, authors, bytes, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          docId,
          meta.id,
          meta.createdAt,
          meta.kind,
          meta.kind === 'named' ? meta.name : null,
          meta.kind === 'auto' ? meta.cause : null,
          meta.authors,
          meta.bytes,
          Buffer.from(version.state.buffer, version.state.byteOffset, version.state.byteLength),
        ],
      )
      const dropped = droppedByRetention([...existing, meta], now)
      if (dropped.length > 0) {
        await sql.query('DELETE FROM tandem_versions WHERE doc_id = $1 AND id = ANY($2::text[])', [
          docId,
          dropped,
        ])
      }
      return meta
    })
  }

  async list(docId: string): Promise<VersionMeta[]> {
    const { rows } = await this.#db.query<VersionRow>(
      `SELECT ${META_COLUMNS} FROM tandem_versions WHERE doc_id = $1 ORDER BY id DESC`,
      [docId],
    )
    return rows.map(metaFromRow)
  }

  async get(docId: string, id: string): Promise<{ meta: VersionMeta; state: Uint8Array } | null> {
    const { rows } = await this.#db.query<VersionRow & { state: Buffer }>(
      `SELECT ${META_COLUMNS}, state FROM tandem_versions WHERE doc_id = $1 AND id = $2`,
      [docId, id],
    )
    const row = rows[0]
    if (!row) return null
    // A plain Uint8Array view: `pg` hands out Buffers.
    return {
      meta: metaFromRow(row),
      state: new Uint8Array(row.state.buffer, row.state.byteOffset, row.state.byteLength),
    }
  }

  async deleteAll(docId: string): Promise<void> {
    await this.#db.write((sql) => sql.query('DELETE FROM tandem_versions WHERE doc_id = $1', [docId]))
  }
}

function metaFromRow(row: VersionRow): VersionMeta {
  const common = { id: row.id, createdAt: Number(row.created_at), authors: row.authors, bytes: row.bytes }
  return row.kind === 'named'
    ? { ...common, kind: 'named', name: row.name ?? '' }
    : { ...common, kind: 'auto', cause: row.cause ?? 'pause' }
}
