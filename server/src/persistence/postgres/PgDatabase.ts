import { DatabaseError, Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg'
import type { StoreState } from '../DocStore.ts'
import { runMigrations, type Migration } from './migrate.ts'

export type { Migration }

/** Statements of one transaction, or of the pool for reads. */
export interface Sql {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>
}

/** What the database reports to the composition root (logs, metrics; SPEC R57, R64). */
export type PgDatabaseEvent =
  /** A write failed: writes first check that the database takes one again. */
  | { readonly kind: 'write-failed'; readonly error: unknown }
  /** The check failed: the database still does not take writes. */
  | { readonly kind: 'recovery-deferred'; readonly error: unknown }
  | { readonly kind: 'recovered' }
  /** A pooled connection nobody was using broke (PostgreSQL restarted): it is dropped, nothing else. */
  | { readonly kind: 'idle-connection-error'; readonly error: unknown }
  | { readonly kind: 'migrated'; readonly id: string }

export interface PgDatabaseOptions {
  /** Every module's migrations, in the order they run (PgDatabase.open). */
  readonly migrations: readonly Migration[]
  readonly onEvent?: (event: PgDatabaseEvent) => void
  /** Connections this node opens at most. */
  readonly maxConnections?: number
}

/** Why a write was refused: the last write failed and the database does not take one yet (R57). */
export class DatabaseFailingError extends Error {
  override readonly name = 'DatabaseFailingError'
}

type Lifecycle =
  | { readonly kind: 'open' }
  | { readonly kind: 'failing'; readonly cause: unknown }
  | { readonly kind: 'closed' }

const DEFAULT_MAX_CONNECTIONS = 10
const CONNECT_TIMEOUT_MS = 10_000
const KEEPALIVE_DELAY_MS = 10_000
const FIRST_RECOVERY_DELAY_MS = 100
const MAX_RECOVERY_DELAY_MS = 5_000

/** The database's own table: what a recovery check writes (one row, overwritten). */
const DATABASE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'database/001-write-probe',
    sql: 'CREATE TABLE tandem_write_probe (id smallint PRIMARY KEY, probed_at timestamptz NOT NULL)',
  },
]
const PROBE_SQL = `INSERT INTO tandem_write_probe (id, probed_at) VALUES (1, now())
  ON CONFLICT (id) DO UPDATE SET probed_at = EXCLUDED.probed_at`

/**
 * The PostgreSQL database of a cluster (SPEC R64), shared by every module that keeps state in it
 * (documents, versions, settings, the webhook outbox): one pool, one migration run, one write
 * guard.
 *
 * Every write is one transaction (`write`), resolved only after its COMMIT was acknowledged. A
 * write that fails turns the database `failing` (SPEC R57): PostgreSQL rolled it back, so nothing
 * acknowledged is at risk, but until a probe write has committed again, each write first runs
 * that probe and is refused while it fails, and a background loop retries it with backoff, so the
 * state (readiness, metrics) recovers by itself. Reads are served meanwhile.
 */
export class PgDatabase {
  readonly #pool: Pool
  readonly #onEvent: (event: PgDatabaseEvent) => void
  /** Stale pooled connections a transaction skips before giving up (one per pool slot, and one). */
  readonly #maxAttempts: number
  #lifecycle: Lifecycle = { kind: 'open' }
  #recovery: Promise<void> | null = null
  #isRecoveringInBackground = false
  #wake: (() => void) | null = null

  private constructor(url: string, options: PgDatabaseOptions) {
    const max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.#maxAttempts = max + 1
    this.#onEvent = options.onEvent ?? (() => undefined)
    this.#pool = new Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A peer gone without a word (a partition) is noticed by TCP keepalive, not after hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    })
    // Without a listener, an idle connection's error (PostgreSQL restarted, the connection was
    // terminated) is an unhandled 'error' event and ends the process. The pool drops the client.
    this.#pool.on('error', (error) => this.#onEvent({ kind: 'idle-connection-error', error }))
  }

  /**
   * Connects and runs, in order, each migration not applied yet (their ids are recorded in
   * `tandem_migrations`), under an advisory lock: nodes starting at once run each one once.
   */
  static async open(url: string, options: PgDatabaseOptions): Promise<PgDatabase> {
    const database = new PgDatabase(url, options)
    try {
      const client = await database.#pool.connect()
      await runMigrations(client, [...DATABASE_MIGRATIONS, ...options.migrations], (id) =>
        database.#onEvent({ kind: 'migrated', id }),
      )
    } catch (error) {
      await database.#pool.end()
      throw error
    }
    return database
  }

  get state(): StoreState {
    return this.#lifecycle.kind
  }

  /**
   * One read statement (one snapshot). Reads are idempotent, so a statement that failed on a
   * broken pooled connection is tried again on another.
   */
  async query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#pool.query<R>(text, values)
      } catch (error) {
        if (attempt >= this.#maxAttempts || !isConnectionError(error)) throw error
      }
    }
  }

  /**
   * Runs `work` in one transaction; resolves with its result once COMMIT was acknowledged. When
   * the connection breaks after COMMIT was sent, it rejects although the transaction may have
   * committed: a caller that retries must write something that may be applied twice (Yjs updates
   * may).
   */
  async write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    await this.recover()
    return this.#transaction(work, (error) => this.#failed(error))
  }

  /** Resolves at once while open; after a failed write, once a probe write has committed. */
  recover(): Promise<void> {
    const lifecycle = this.#lifecycle
    switch (lifecycle.kind) {
      case 'open':
        return Promise.resolve()
      case 'closed':
        return Promise.reject(new DatabaseFailingError('the database is closed'))
      case 'failing':
        this.#recovery ??= this.#probe().finally(() => (this.#recovery = null))
        return this.#recovery
    }
  }

  async close(): Promise<void> {
    if (this.#lifecycle.kind === 'closed') return
    this.#lifecycle = { kind: 'closed' }
    this.#wake?.()
    await this.#pool.end()
  }

  async #probe(): Promise<void> {
    try {
      await this.#transaction((sql) => sql.query(PROBE_SQL))
    } catch (error) {
      this.#onEvent({ kind: 'recovery-deferred', error })
      throw new DatabaseFailingError('a write failed and the database does not take writes yet (SPEC R57)', {
        cause: error,
      })
    }
    if (this.#lifecycle.kind === 'failing') {
      this.#lifecycle = { kind: 'open' }
      this.#onEvent({ kind: 'recovered' })
    }
  }

  #failed(error: unknown): void {
    if (this.#lifecycle.kind === 'closed') return
    this.#lifecycle = { kind: 'failing', cause: error }
    this.#onEvent({ kind: 'write-failed', error })
    void this.#recoverInBackground()
  }

  /**
   * BEGIN, `work`, COMMIT on one pooled connection. `onDatabaseError` hears of a statement the
   * database (or the connection) failed, not of an error `work` threw by itself.
   */
  async #transaction<T>(
    work: (sql: Sql) => Promise<T>,
    onDatabaseError: (error: unknown) => void = () => undefined,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let lease: Lease
      try {
        lease = await this.#lease()
      } catch (error) {
        onDatabaseError(error)
        throw error
      }
      try {
        await lease.client.query('BEGIN')
      } catch (error) {
        lease.release(true)
        // Nothing that could commit was sent: a pooled connection that broke unnoticed (the
        // server ended it) is dropped and another one tried.
        if (attempt < this.#maxAttempts && isConnectionError(error)) continue
        onDatabaseError(error)
        throw error
      }
      let isDatabaseError = false
      const sql: Sql = {
        query: async (text, values) => {
          try {
            return await lease.client.query(text, values)
          } catch (error) {
            isDatabaseError = true
            throw error
          }
        },
      }
      try {
        const result = await work(sql)
        await sql.query('COMMIT')
        lease.release(false)
        return result
      } catch (error) {
        if (isDatabaseError) onDatabaseError(error)
        // On a broken connection PostgreSQL rolls back by itself; that connection is dropped.
        const isRolledBack = await lease.client.query('ROLLBACK').then(
          () => true,
          () => false,
        )
        lease.release(!isRolledBack)
        throw error
      }
    }
  }

  /** A pooled connection that may error while it is ours: without a listener that would crash. */
  async #lease(): Promise<Lease> {
    const client = await this.#pool.connect()
    let isBroken = false
    const onError = (): void => {
      isBroken = true
    }
    client.on('error', onError)
    return {
      client,
      release(destroy) {
        client.off('error', onError)
        client.release(destroy || isBroken)
      },
    }
  }

  /** Probes with backoff (0.1 s doubling to 5 s) while nobody writes, until a probe commits. */
  async #recoverInBackground(): Promise<void> {
    if (this.#isRecoveringInBackground) return
    this.#isRecoveringInBackground = true
    try {
      for (let attempt = 0; this.#lifecycle.kind === 'failing'; attempt += 1) {
        await this.#delay(Math.min(MAX_RECOVERY_DELAY_MS, FIRST_RECOVERY_DELAY_MS * 2 ** attempt))
        if (this.#lifecycle.kind === 'failing') await this.recover().catch(() => undefined)
      }
    } finally {
      this.#isRecoveringInBackground = false
    }
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wake = null
        resolve()
      }
      const timer = setTimeout(wake, ms)
      timer.unref()
      this.#wake = wake
    })
  }
}

interface Lease {
  readonly client: PoolClient
  /** Back to the pool, or closed when `destroy` or the connection broke. */
  release(destroy: boolean): void
}

/**
 * The connection, not the statement, failed: no SQLSTATE (socket closed, "Connection terminated
 * unexpectedly"), class 08 (connection exception) or 57P (the server is shutting down or ended
 * this session, e.g. pg_terminate_backend).
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof DatabaseError)) return true
  return /^(08|57P)/.test(error.code ?? '')
}
