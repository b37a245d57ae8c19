import { randomBytes } from 'node:crypto'
import type { Sql } from '../persistence/postgres/PgDatabase.ts'
import type { UpdateWindow } from './types.ts'

/** One transaction on the outbox's database (PostgresOutboxStore's tracked `write`). */
export type Write = <T>(work: (sql: Sql) => Promise<T>) => Promise<T>

/**
 * Open `document.updated` windows in PostgreSQL (R40, R67), each held by one node: `holder` is a
 * random id per store (per node start), `held_until` the end of its hold, renewed by the node's
 * sync loop. A node that dies stops renewing, and once the hold has run out another node adopts
 * its windows and reports them. A window another node adopted stays that node's: the stalled
 * holder neither saves it again nor closes it.
 */
export class PostgresWindows {
  readonly #holder = randomBytes(6).toString('hex')
  /**
   * Window writes and the enqueues that close windows, in call order: a window's save must land
   * before its close (LevelDB's chain gives that order to every write; here only these need it).
   */
  #chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly write: Write,
    private readonly holdMs: number,
  ) {}

  save(window: UpdateWindow, now: number): Promise<void> {
    return this.inOrder(async () => {
      await this.write((sql) =>
        sql.query(
          `INSERT INTO tandem_webhook_windows (doc_id, window_id, record, holder, held_until)
           VALUES ($1, $2, $3::jsonb, $4, $5)
           ON CONFLICT (doc_id, window_id) DO UPDATE
             SET record = EXCLUDED.record, held_until = EXCLUDED.held_until
             WHERE tandem_webhook_windows.holder = EXCLUDED.holder`,
          [window.docId, window.windowId, JSON.stringify(window), this.#holder, now + this.holdMs],
        ),
      )
    })
  }

  delete(window: UpdateWindow): Promise<void> {
    return this.inOrder(async () => {
      await this.write((sql) =>
        sql.query('DELETE FROM tandem_webhook_windows WHERE doc_id = $1 AND window_id = $2 AND holder = $3', [
          window.docId,
          window.windowId,
          this.#holder,
        ]),
      )
    })
  }

  adopt(now: number): Promise<UpdateWindow[]> {
    return this.write(async (sql) => {
      const { rows } = await sql.query<{ record: UpdateWindow }>(
        `UPDATE tandem_webhook_windows SET holder = $1, held_until = $2
         WHERE (doc_id, window_id) IN (
           SELECT doc_id, window_id FROM tandem_webhook_windows WHERE held_until <= $3
           FOR UPDATE SKIP LOCKED)
         RETURNING record`,
        [this.#holder, now + this.holdMs, now],
      )
      return rows.map((row) => row.record)
    })
  }

  async hold(now: number): Promise<void> {
    await this.write((sql) =>
      sql.query('UPDATE tandem_webhook_windows SET held_until = $1 WHERE holder = $2', [
        now + this.holdMs,
        this.#holder,
      ]),
    )
  }

  release(): Promise<void> {
    return this.inOrder(async () => {
      await this.write((sql) =>
        sql.query('UPDATE tandem_webhook_windows SET held_until = 0 WHERE holder = $1', [this.#holder]),
      )
    })
  }

  /**
   * Inside an enqueue's transaction: deletes the window its event closes. False when another node
   * holds it now (it adopted the window while this one stalled, and reports it): the caller rolls
   * back. A window that was never saved (its save failed) is closed all the same.
   */
  async close(sql: Sql, window: UpdateWindow): Promise<boolean> {
    const { rows } = await sql.query<{ holder: string }>(
      'DELETE FROM tandem_webhook_windows WHERE doc_id = $1 AND window_id = $2 RETURNING holder',
      [window.docId, window.windowId],
    )
    return rows[0] === undefined || rows[0].holder === this.#holder
  }

  /** Runs `job` after every window write asked for before it. */
  inOrder<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(job, job)
    this.#chain = result.catch(() => undefined)
    return result
  }
}
