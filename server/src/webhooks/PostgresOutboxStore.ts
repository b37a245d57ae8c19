import { randomBytes } from 'node:crypto'
import type { PgDatabase, Sql } from '../persistence/postgres/PgDatabase.ts'
import type {
  Claim,
  ClaimTicket,
  DueEntry,
  EndpointChange,
  EndpointUpdate,
  EnqueueResult,
  OutboxStore,
  Recorded,
} from './OutboxStore.ts'
import { PostgresWindows } from './postgresWindows.ts'
import type { DeliveryRecord, DeliveryState, EndpointRecord, UpdateWindow } from './types.ts'

export interface PostgresOutboxOptions {
  /**
   * How long a window stays this node's without a renewal (`holdWindows`). A node that died is
   * taken for dead after this long, and its open windows are adopted by another.
   */
  readonly windowHoldMs?: number
}

const DEFAULT_WINDOW_HOLD_MS = 30_000

/**
 * The outbox in PostgreSQL (docs/PROTOCOL.md §9.6, SPEC R67), shared by every node of a cluster:
 * tables from `webhookMigrations`. Each statement group is one transaction (`PgDatabase.write`).
 *
 * - A claim locks the delivery's row with `FOR UPDATE SKIP LOCKED` (two nodes claiming at once:
 *   one gets it, the other hears `busy` without waiting) and sets a random token and
 *   `claimed_until`, which moves `due_at`: no node finds it due until the lease runs out.
 * - An attempt's outcome is written only while its token is still the row's (fencing): a node
 *   that stalled past its lease, after another node claimed and sent the delivery again, records
 *   nothing.
 * - Windows are held by one node until their hold runs out (`PostgresWindows`).
 */
export class PostgresOutboxStore implements OutboxStore {
  readonly isShared = true
  readonly #db: PgDatabase
  readonly #writes = new Set<Promise<unknown>>()
  readonly #windows: PostgresWindows

  constructor(db: PgDatabase, options: PostgresOutboxOptions = {}) {
    this.#db = db
    this.#windows = new PostgresWindows(
      (work) => this.#write(work),
      options.windowHoldMs ?? DEFAULT_WINDOW_HOLD_MS,
    )
  }

  async endpoints(): Promise<EndpointRecord[]> {
    const { rows } = await this.#db.query<{ record: EndpointRecord }>(
      'SELECT record FROM tandem_webhook_endpoints ORDER BY id',
    )
    return rows.map((row) => row.record)
  }

  async endpoint(endpointId: string): Promise<EndpointRecord | null> {
    const { rows } = await this.#db.query<{ record: EndpointRecord }>(
      'SELECT record FROM tandem_webhook_endpoints WHERE id = $1',
      [endpointId],
    )
    return rows[0]?.record ?? null
  }

  async putEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.#write((sql) =>
      sql.query(
        `INSERT INTO tandem_webhook_endpoints (id, record) VALUES ($1, $2::jsonb)
         ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`,
        [endpoint.id, JSON.stringify(endpoint)],
      ),
    )
  }

  updateEndpoint(endpointId: string, change: EndpointChange): Promise<EndpointRecord | null> {
    return this.#write((sql) => changeEndpoint(sql, endpointId, change))
  }

  async deleteEndpoint(endpointId: string): Promise<void> {
    await this.#write(async (sql) => {
      await sql.query('DELETE FROM tandem_webhook_deliveries WHERE endpoint_id = $1', [endpointId])
      await sql.query('DELETE FROM tandem_webhook_endpoints WHERE id = $1', [endpointId])
    })
  }

  countPending(): Promise<Map<string, number>> {
    return this.#count("WHERE state = 'pending'")
  }

  countLogged(): Promise<Map<string, number>> {
    return this.#count('')
  }

  saveWindow(window: UpdateWindow, now: number): Promise<void> {
    return this.#windows.save(window, now)
  }

  deleteWindow(window: UpdateWindow): Promise<void> {
    return this.#windows.delete(window)
  }

  adoptWindows(now: number): Promise<UpdateWindow[]> {
    return this.#windows.adopt(now)
  }

  holdWindows(now: number): Promise<void> {
    return this.#windows.hold(now)
  }

  releaseWindows(): Promise<void> {
    return this.#windows.release()
  }

  enqueue(
    deliveries: readonly DeliveryRecord[],
    also: { closedWindow?: UpdateWindow; endpointChanges?: readonly EndpointUpdate[] } = {},
  ): Promise<EnqueueResult> {
    const work = async (sql: Sql): Promise<EnqueueResult> => {
      const { closedWindow } = also
      // Adopted by another node while this one stalled: that node reports it. Thrown, so the
      // transaction (the window's delete too) rolls back.
      if (closedWindow && !(await this.#windows.close(sql, closedWindow))) throw new WindowTaken()
      if (deliveries.length > 0) {
        // Skips deliveries whose endpoint another node removed meanwhile.
        await sql.query(
          `INSERT INTO tandem_webhook_deliveries (endpoint_id, id, state, next_attempt_at, record)
           SELECT x.endpoint_id, x.id, x.state, x.next_attempt_at, x.record
           FROM jsonb_to_recordset($1::jsonb)
             AS x(endpoint_id text, id text, state text, next_attempt_at bigint, record jsonb)
           WHERE EXISTS (SELECT 1 FROM tandem_webhook_endpoints e WHERE e.id = x.endpoint_id)`,
          [JSON.stringify(deliveries.map(deliveryRow))],
        )
      }
      // In id order, so two transactions changing the same endpoints never wait on each other.
      const changes = [...(also.endpointChanges ?? [])].sort((a, b) => compare(a.endpointId, b.endpointId))
      for (const { endpointId, change } of changes) await changeEndpoint(sql, endpointId, change)
      return 'queued'
    }
    const enqueued = (): Promise<EnqueueResult> =>
      this.#write(work).catch((error: unknown) => {
        if (error instanceof WindowTaken) return 'window-taken'
        throw error
      })
    return also.closedWindow ? this.#windows.inOrder(enqueued) : enqueued()
  }

  async due(limit: number): Promise<DueEntry[]> {
    const { rows } = await this.#db.query<{ endpoint_id: string; id: string; due_at: string }>(
      `SELECT endpoint_id, id, due_at FROM tandem_webhook_deliveries WHERE state = 'pending'
       ORDER BY due_at, endpoint_id, id LIMIT $1`,
      [limit],
    )
    return rows.map((row) => ({ at: Number(row.due_at), endpointId: row.endpoint_id, deliveryId: row.id }))
  }

  claim(entry: DueEntry, now: number, leaseMs: number): Promise<Claim> {
    return this.#write(async (sql): Promise<Claim> => {
      const key = [entry.endpointId, entry.deliveryId]
      const { rows } = await sql.query<{ state: string; due_at: string; record: DeliveryRecord }>(
        `SELECT state, due_at, record FROM tandem_webhook_deliveries
         WHERE endpoint_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED`,
        key,
      )
      const row = rows[0]
      if (!row) {
        // Locked: another node is claiming or recording it right now (its row is still there).
        const exists = await sql.query(
          'SELECT 1 FROM tandem_webhook_deliveries WHERE endpoint_id = $1 AND id = $2',
          key,
        )
        return { kind: exists.rows.length > 0 ? 'busy' : 'stale' }
      }
      if (row.state !== 'pending' || Number(row.due_at) !== entry.at) return { kind: 'stale' }
      if (entry.at > now) return { kind: 'not-due' }
      const ticket: ClaimTicket = {
        ...pick(entry),
        token: randomBytes(12).toString('hex'),
        until: now + leaseMs,
      }
      await sql.query(
        `UPDATE tandem_webhook_deliveries SET claim_token = $3, claimed_until = $4
         WHERE endpoint_id = $1 AND id = $2`,
        [...key, ticket.token, ticket.until],
      )
      return { kind: 'due', delivery: row.record, ticket }
    })
  }

  record(ticket: ClaimTicket, after: DeliveryRecord, endpointChange?: EndpointChange): Promise<Recorded> {
    return this.#write(async (sql): Promise<Recorded> => {
      const row = deliveryRow(after)
      const { rowCount } = await sql.query(
        `UPDATE tandem_webhook_deliveries
         SET state = $4, next_attempt_at = $5, record = $6::jsonb, claim_token = NULL, claimed_until = NULL
         WHERE endpoint_id = $1 AND id = $2 AND claim_token = $3 AND state = 'pending'`,
        [
          ticket.endpointId,
          ticket.deliveryId,
          ticket.token,
          row.state,
          row.next_attempt_at,
          JSON.stringify(row.record),
        ],
      )
      if (rowCount !== 1) return { kind: 'lost' }
      const endpoint = endpointChange ? await changeEndpoint(sql, ticket.endpointId, endpointChange) : null
      return { kind: 'recorded', endpoint }
    })
  }

  async release(ticket: ClaimTicket): Promise<void> {
    await this.#write((sql) =>
      sql.query(
        `UPDATE tandem_webhook_deliveries SET claim_token = NULL, claimed_until = NULL
         WHERE endpoint_id = $1 AND id = $2 AND claim_token = $3`,
        [ticket.endpointId, ticket.deliveryId, ticket.token],
      ),
    )
  }

  async dropDue(entry: DueEntry): Promise<void> {
    await this.#write((sql) =>
      sql.query(
        `DELETE FROM tandem_webhook_deliveries WHERE endpoint_id = $1 AND id = $2
         AND NOT EXISTS (SELECT 1 FROM tandem_webhook_endpoints WHERE id = $1)`,
        [entry.endpointId, entry.deliveryId],
      ),
    )
  }

  failPending(endpointId: string, now: number): Promise<number> {
    const state: DeliveryState = { kind: 'failed', at: now, reason: { kind: 'endpoint-disabled' } }
    return this.#write(async (sql) => {
      const { rowCount } = await sql.query(
        `UPDATE tandem_webhook_deliveries
         SET state = 'failed', next_attempt_at = NULL, claim_token = NULL, claimed_until = NULL,
             record = jsonb_set(record, '{state}', $2::jsonb)
         WHERE endpoint_id = $1 AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= $3)`,
        [endpointId, JSON.stringify(state), now],
      )
      return rowCount ?? 0
    })
  }

  replay(endpointId: string, deliveryId: string, now: number): Promise<DeliveryRecord | null> {
    const state: DeliveryState = { kind: 'pending', nextAttemptAt: now, failures: 0 }
    return this.#write(async (sql) => {
      const { rows } = await sql.query<{ record: DeliveryRecord }>(
        `UPDATE tandem_webhook_deliveries
         SET state = 'pending', next_attempt_at = $3, record = jsonb_set(record, '{state}', $4::jsonb)
         WHERE endpoint_id = $1 AND id = $2 AND state = 'failed'
         RETURNING record`,
        [endpointId, deliveryId, now, JSON.stringify(state)],
      )
      return rows[0]?.record ?? null
    })
  }

  async delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.#db.query<{ record: DeliveryRecord }>(
      'SELECT record FROM tandem_webhook_deliveries WHERE endpoint_id = $1 AND id = $2',
      [endpointId, deliveryId],
    )
    return rows[0]?.record ?? null
  }

  async deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const { rows } = await this.#db.query<{ record: DeliveryRecord }>(
      'SELECT record FROM tandem_webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2',
      [endpointId, limit],
    )
    return rows.map((row) => row.record)
  }

  prune(endpointId: string, keep: number): Promise<number> {
    return this.#write(async (sql) => {
      const { rows } = await sql.query<{ total: number }>(
        'SELECT count(*)::int AS total FROM tandem_webhook_deliveries WHERE endpoint_id = $1',
        [endpointId],
      )
      const total = rows[0]?.total ?? 0
      if (total <= keep) return total
      const { rowCount } = await sql.query(
        `DELETE FROM tandem_webhook_deliveries WHERE endpoint_id = $1 AND id IN (
           SELECT id FROM tandem_webhook_deliveries WHERE endpoint_id = $1 AND state <> 'pending'
           ORDER BY id LIMIT $2)`,
        [endpointId, total - keep],
      )
      return total - (rowCount ?? 0)
    })
  }

  async drain(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes])
  }

  async #count(where: string): Promise<Map<string, number>> {
    const { rows } = await this.#db.query<{ endpoint_id: string; n: number }>(
      `SELECT endpoint_id, count(*)::int AS n FROM tandem_webhook_deliveries ${where} GROUP BY endpoint_id`,
    )
    return new Map(rows.map((row) => [row.endpoint_id, row.n]))
  }

  /** One transaction, tracked so `drain` can wait for it. */
  #write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const result = this.#db.write(work)
    this.#writes.add(result)
    void result.catch(() => undefined).finally(() => this.#writes.delete(result))
    return result
  }
}

/** Thrown inside `enqueue`'s transaction to roll it back. */
class WindowTaken extends Error {}

async function changeEndpoint(
  sql: Sql,
  endpointId: string,
  change: EndpointChange,
): Promise<EndpointRecord | null> {
  const { rows } = await sql.query<{ record: EndpointRecord }>(
    'SELECT record FROM tandem_webhook_endpoints WHERE id = $1 FOR UPDATE',
    [endpointId],
  )
  const current = rows[0]?.record
  if (!current) return null
  const next = change(current)
  await sql.query('UPDATE tandem_webhook_endpoints SET record = $2::jsonb WHERE id = $1', [
    endpointId,
    JSON.stringify(next),
  ])
  return next
}

function deliveryRow(delivery: DeliveryRecord): {
  endpoint_id: string
  id: string
  state: string
  next_attempt_at: number | null
  record: DeliveryRecord
} {
  return {
    endpoint_id: delivery.endpointId,
    id: delivery.id,
    state: delivery.state.kind,
    next_attempt_at: delivery.state.kind === 'pending' ? delivery.state.nextAttemptAt : null,
    record: delivery,
  }
}

function pick(entry: DueEntry): { endpointId: string; deliveryId: string } {
  return { endpointId: entry.endpointId, deliveryId: entry.deliveryId }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
