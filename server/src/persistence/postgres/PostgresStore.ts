import type { AppendEntry, DocMeta, DocStore, ListedDoc, StoreState, StoredDoc } from '../DocStore.ts'
import { isDueForCompaction, mergeLog, prepareBatch } from './logEntries.ts'
import { DatabaseFailingError, type PgDatabase, type Sql } from './PgDatabase.ts'

export interface PostgresStoreOptions {
  /** Merge a document's log into one entry once it holds this many entries (R5). */
  readonly compactAfterEntries: number
  readonly now?: () => number
}

/** Columns of tandem_docs as `pg` returns them: bigint as a string. */
interface DocRow {
  readonly created_at: string
  readonly updated_at: string
  readonly version: string
  readonly link_key: string
  readonly stored_bytes: string
  readonly log_length: number
  readonly compacted_bytes: string | null
}

const META_COLUMNS = 'created_at, updated_at, version, link_key, stored_bytes, log_length, compacted_bytes'

/**
 * First key of the two-key advisory locks of compactions; the second is the id's hash (two ids
 * with one hash only make one of their compactions wait for the next due append).
 */
const COMPACTION_LOCK_SPACE = 0x7464

/**
 * Documents in PostgreSQL (docs/PROTOCOL.md §5.1, SPEC R64), for several nodes at once.
 *
 * An append is one transaction for the whole batch (a group commit) and resolves after COMMIT. It
 * bumps the document row's version first, which locks that row until COMMIT: the appends of one
 * document run one after the other on every node, and each log entry's `seq` (the version before
 * it) is unique and increases in commit order. So a compaction, which only one node at a time runs
 * for a document (an advisory lock), can merge the rows it read and delete exactly those: what
 * other nodes append meanwhile gets higher seqs and is kept. Documents are locked in id order,
 * so two nodes' batches never deadlock.
 *
 * Failed writes, and recovering from them, are PgDatabase's (SPEC R57): every module's writes
 * share its state, as they share LevelDB's.
 */
export class PostgresStore implements DocStore {
  readonly #db: PgDatabase
  readonly #options: PostgresStoreOptions
  readonly #now: () => number
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #compacting = new Set<string>()
  #isClosed = false

  constructor(db: PgDatabase, options: PostgresStoreOptions) {
    this.#db = db
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  get state(): StoreState {
    return this.#isClosed ? 'closed' : this.#db.state
  }

  create(docId: string, linkKey: string): Promise<boolean> {
    const now = this.#now()
    return this.#write(async (sql) => {
      const result = await sql.query(
        `INSERT INTO tandem_docs (id, created_at, updated_at, link_key) VALUES ($1, $2, $2, $3)
         ON CONFLICT (id) DO NOTHING`,
        [docId, now, linkKey],
      )
      return result.rowCount === 1
    })
  }

  async setLinkKey(docId: string, linkKey: string): Promise<void> {
    const updated = await this.#write(
      async (sql) =>
        (await sql.query('UPDATE tandem_docs SET link_key = $2 WHERE id = $1', [docId, linkKey])).rowCount,
    )
    if (updated === 0) throw new Error(`no document ${docId}`)
  }

  async getMeta(docId: string): Promise<DocMeta | null> {
    const { rows } = await this.#db.query<DocRow>(`SELECT ${META_COLUMNS} FROM tandem_docs WHERE id = $1`, [
      docId,
    ])
    return rows[0] ? metaOf(rows[0]) : null
  }

  /** One statement, so one snapshot: never half of a compaction, or a log without its meta. */
  async load(docId: string): Promise<StoredDoc | null> {
    const { rows } = await this.#db.query<
      DocRow & { updates: Buffer[]; writer_clients: string[]; writer_keys: string[] }
    >(
      `SELECT ${META_COLUMNS},
         ARRAY(SELECT data FROM tandem_doc_updates u WHERE u.doc_key = d.key ORDER BY seq) AS updates,
         ARRAY(SELECT client_id FROM tandem_doc_writers w WHERE w.doc_key = d.key ORDER BY client_id)
           AS writer_clients,
         ARRAY(SELECT writer_key FROM tandem_doc_writers w WHERE w.doc_key = d.key ORDER BY client_id)
           AS writer_keys
       FROM tandem_docs d WHERE d.id = $1`,
      [docId],
    )
    const row = rows[0]
    if (!row) return null
    const writers = new Map<number, string>()
    row.writer_clients.forEach((client, index) => writers.set(Number(client), row.writer_keys[index] ?? ''))
    return { meta: metaOf(row), updates: row.updates.map(view), writers }
  }

  async append(entries: readonly AppendEntry[]): Promise<void> {
    if (entries.length === 0) return
    const docs = prepareBatch(entries)
    const now = this.#now()
    // One statement for the whole batch: a document's row stays locked from this statement to
    // COMMIT, one round trip, however many documents the batch holds; statement by statement, the
    // lock lasted a round trip per document and other nodes' commits queued behind it (R64).
    const updates = docs.flatMap((doc) => {
      let relative = 0
      return doc.chunks.map((chunk) => {
        const row = { id: doc.id, relative, data: chunk.data }
        relative += chunk.updates
        return row
      })
    })
    const writers = docs.flatMap((doc) =>
      [...doc.writers].map(([client, key]) => ({ id: doc.id, client, key })),
    )
    const due = await this.#write(async (sql) => {
      const { rows } = await sql.query<DocRow & { id: string }>(
        `WITH batch AS (
           SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS b(id, n, bytes, entries)
         ), docs AS (
           INSERT INTO tandem_docs AS d (id, created_at, updated_at, version, stored_bytes, log_length)
           SELECT id, $1, $1, n, bytes, entries FROM batch ORDER BY id
           ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at,
             version = d.version + EXCLUDED.version,
             stored_bytes = d.stored_bytes + EXCLUDED.stored_bytes,
             log_length = d.log_length + EXCLUDED.log_length
           RETURNING d.key, d.id, ${META_COLUMNS}
         ), updates AS (
           INSERT INTO tandem_doc_updates (doc_key, seq, data)
           SELECT docs.key, docs.version - batch.n + u.relative, u.data
           FROM unnest($6::text[], $7::bigint[], $8::bytea[]) AS u(id, relative, data)
           JOIN docs ON docs.id = u.id JOIN batch ON batch.id = u.id
         ), writers AS (
           -- The first binding of a client id wins, also against another node's (R33).
           INSERT INTO tandem_doc_writers (doc_key, client_id, writer_key)
           SELECT docs.key, w.client, w.writer
           FROM unnest($9::text[], $10::bigint[], $11::text[]) AS w(id, client, writer)
           JOIN docs ON docs.id = w.id
           ON CONFLICT DO NOTHING
         )
         SELECT id, ${META_COLUMNS} FROM docs`,
        [
          now,
          docs.map((doc) => doc.id),
          docs.map((doc) => doc.updateCount),
          docs.map((doc) => doc.bytes),
          docs.map((doc) => doc.chunks.length),
          updates.map((row) => row.id),
          updates.map((row) => row.relative),
          updates.map((row) => row.data),
          writers.map((row) => row.id),
          writers.map((row) => row.client),
          writers.map((row) => row.key),
        ],
      )
      if (rows.length !== docs.length)
        throw new Error(`appending ${docs.length} documents returned ${rows.length} rows`)
      return rows
        .filter((row) => isDueForCompaction(metaOf(row), this.#options.compactAfterEntries))
        .map((row) => row.id)
    })
    for (const docId of due) void this.#compactLater(docId)
  }

  /**
   * Merges the document's log into one entry (R5), unless another node is compacting it. Reads
   * the rows, merges them, then (the document row first, the lock order of appends and deletes)
   * adjusts the meta by what it removed and deletes exactly the rows it read.
   */
  compact(docId: string): Promise<void> {
    return this.#write(async (sql) => {
      if (!(await lockCompaction(sql, docId))) return
      const doc = (await sql.query<{ key: string }>('SELECT key FROM tandem_docs WHERE id = $1', [docId]))
        .rows[0]
      if (!doc) return
      const { rows } = await sql.query<{ seq: string; data: Buffer }>(
        'SELECT seq, data FROM tandem_doc_updates WHERE doc_key = $1 ORDER BY seq',
        [doc.key],
      )
      const last = rows.at(-1)
      if (!last || rows.length <= 1) return
      const merged = mergeLog(rows.map((row) => row.data))
      const removedBytes = rows.reduce((sum, row) => sum + row.data.byteLength, 0) - merged.byteLength
      const updated = await sql.query(
        `UPDATE tandem_docs SET log_length = log_length - $2, stored_bytes = stored_bytes - $3,
           compacted_bytes = $4 WHERE key = $1`,
        [doc.key, rows.length - 1, removedBytes, merged.byteLength],
      )
      // Deleted meanwhile: its rows went with it.
      if (updated.rowCount === 0) return
      await sql.query('DELETE FROM tandem_doc_updates WHERE doc_key = $1 AND seq = ANY($2::bigint[])', [
        doc.key,
        rows.slice(0, -1).map((row) => row.seq),
      ])
      await sql.query('UPDATE tandem_doc_updates SET data = $3 WHERE doc_key = $1 AND seq = $2', [
        doc.key,
        last.seq,
        merged,
      ])
    })
  }

  compactTo(docId: string, state: Uint8Array, version: number): Promise<void> {
    return this.#write(async (sql) => {
      if (!(await lockCompaction(sql, docId))) return
      // Locked until COMMIT: no append can slip in between the version check and the rewrite.
      const doc = (
        await sql.query<{ key: string; version: string; log_length: number }>(
          'SELECT key, version, log_length FROM tandem_docs WHERE id = $1 FOR UPDATE',
          [docId],
        )
      ).rows[0]
      if (!doc || Number(doc.version) !== version || doc.log_length <= 1) return
      const { rows } = await sql.query<{ last: string | null }>(
        'SELECT max(seq) AS last FROM tandem_doc_updates WHERE doc_key = $1',
        [doc.key],
      )
      const last = rows[0]?.last
      if (last === null || last === undefined) return
      await sql.query('DELETE FROM tandem_doc_updates WHERE doc_key = $1 AND seq < $2', [doc.key, last])
      await sql.query('UPDATE tandem_doc_updates SET data = $3 WHERE doc_key = $1 AND seq = $2', [
        doc.key,
        last,
        Buffer.from(state.buffer, state.byteOffset, state.byteLength),
      ])
      await sql.query(
        'UPDATE tandem_docs SET stored_bytes = $2, log_length = 1, compacted_bytes = $2 WHERE key = $1',
        [doc.key, state.byteLength],
      )
    })
  }

  /** The row, and with it (ON DELETE CASCADE) its log and writer bindings, in one statement. */
  delete(docId: string): Promise<boolean> {
    return this.#write(
      async (sql) => (await sql.query('DELETE FROM tandem_docs WHERE id = $1', [docId])).rowCount === 1,
    )
  }

  async list({ after, limit }: { after?: string | undefined; limit: number }): Promise<ListedDoc[]> {
    const { rows } = await this.#db.query<DocRow & { id: string }>(
      `SELECT id, ${META_COLUMNS} FROM tandem_docs WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    )
    return rows.map((row) => ({ id: row.id, meta: metaOf(row) }))
  }

  /** Waits for the writes in flight (compactions included); the database stays open (main.ts). */
  async close(): Promise<void> {
    this.#isClosed = true
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#isClosed) return Promise.reject(new DatabaseFailingError('the store is closed'))
    const job = this.#db.write(work)
    this.#inFlight.add(job)
    const forget = (): void => void this.#inFlight.delete(job)
    job.then(forget, forget)
    return job
  }

  async #compactLater(docId: string): Promise<void> {
    if (this.#compacting.has(docId) || this.#isClosed) return
    this.#compacting.add(docId)
    try {
      await this.compact(docId)
    } catch {
      // Nothing is lost: the transaction rolled back, the database turned `failing` (R57), and
      // the next append that finds the log due tries again.
    } finally {
      this.#compacting.delete(docId)
    }
  }
}

/** Whether this transaction may compact the document: no other node is (released at COMMIT). */
async function lockCompaction(sql: Sql, docId: string): Promise<boolean> {
  const { rows } = await sql.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
    [COMPACTION_LOCK_SPACE, docId],
  )
  return rows[0]?.locked === true
}

function metaOf(row: DocRow): DocMeta {
  return {
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    storedBytes: Number(row.stored_bytes),
    logLength: row.log_length,
    version: Number(row.version),
    linkKey: row.link_key,
    ...(row.compacted_bytes === null ? {} : { compactedBytes: Number(row.compacted_bytes) }),
  }
}

/** A plain Uint8Array over a Buffer `pg` returned. */
function view(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
