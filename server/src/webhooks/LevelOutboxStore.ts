import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level'
import { LocalClaims } from './localClaims.ts'
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
import type { DeliveryRecord, EndpointRecord, UpdateWindow } from './types.ts'

/**
 * The keyspace the webhooks own: a sublevel of the documents' LevelDB (`store.sublevel('webhooks')`),
 * utf8 keys and values. Sharing the database means one DATA_DIR, one lock, one backup.
 */
export type WebhookDb = AbstractLevel<string | Buffer | Uint8Array, string, string>

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/**
 * The outbox in LevelDB (docs/PROTOCOL.md §9.6, SPEC R44). Keys:
 *
 * - `ep!<endpointId>` → endpoint JSON
 * - `dl!<endpointId>!<deliveryId>` → delivery JSON; delivery ids start with their creation time,
 *   so one endpoint's log reads newest-first by iterating backwards
 * - `due!<at, 15 digits>!<endpointId>!<deliveryId>` → '' for every pending delivery, so the worker
 *   reads what is due in time order without scanning the log
 * - `win!<docId>!<windowId>` → an open debounce window of `document.updated` (R40)
 *
 * A delivery's record and its `due` entry change in one atomic batch, so a crash at any point
 * leaves a delivery either pending with its entry or settled without one: nothing is lost, and
 * nothing is re-queued under another id. Writes, and reads that decide a write, run one at a time
 * through a chain, in call order. Claims live in memory: LevelDB's lock makes this process the
 * only one that can attempt a delivery.
 */
export class LevelOutboxStore implements OutboxStore {
  readonly isShared = false
  #chain: Promise<unknown> = Promise.resolve()
  /** classic-level's `sync` (fsync, SYNC_WRITES); sublevels pass it through to the database. */
  readonly #batchOptions: AbstractBatchOptions<string, string>
  readonly #claims = new LocalClaims()
  /** Keys of the windows this process saved or adopted; every other one is a previous run's. */
  readonly #heldWindows = new Set<string>()

  constructor(
    private readonly db: WebhookDb,
    syncWrites: boolean,
  ) {
    this.#batchOptions = { sync: syncWrites } as AbstractBatchOptions<string, string>
  }

  async endpoints(): Promise<EndpointRecord[]> {
    const result: EndpointRecord[] = []
    for await (const value of this.db.values(prefixRange('ep!')))
      result.push(JSON.parse(value) as EndpointRecord)
    return result
  }

  async endpoint(endpointId: string): Promise<EndpointRecord | null> {
    return parse<EndpointRecord>(await this.db.get(endpointKey(endpointId)))
  }

  putEndpoint(endpoint: EndpointRecord): Promise<void> {
    return this.#write([endpointPut(endpoint)])
  }

  updateEndpoint(endpointId: string, change: EndpointChange): Promise<EndpointRecord | null> {
    return this.#serialize(async () => {
      const current = await this.endpoint(endpointId)
      if (!current) return null
      const next = change(current)
      await this.db.batch([endpointPut(next)], this.#batchOptions)
      return next
    })
  }

  deleteEndpoint(endpointId: string): Promise<void> {
    return this.#serialize(async () => {
      const ops: Op[] = [{ type: 'del', key: endpointKey(endpointId) }]
      for await (const [key, value] of this.db.iterator(prefixRange(`dl!${endpointId}!`))) {
        ops.push({ type: 'del', key })
        const delivery = JSON.parse(value) as DeliveryRecord
        if (delivery.state.kind === 'pending')
          ops.push({ type: 'del', key: dueKey(delivery.state.nextAttemptAt, endpointId, delivery.id) })
      }
      await this.db.batch(ops, this.#batchOptions)
      this.#claims.dropEndpoint(endpointId)
    })
  }

  async countPending(): Promise<Map<string, number>> {
    const pending = new Map<string, number>()
    for await (const key of this.db.keys(prefixRange('due!'))) {
      const endpointId = parseDueKey(key)?.endpointId ?? ''
      pending.set(endpointId, (pending.get(endpointId) ?? 0) + 1)
    }
    return pending
  }

  async countLogged(): Promise<Map<string, number>> {
    const logged = new Map<string, number>()
    for await (const key of this.db.keys(prefixRange('dl!'))) {
      const endpointId = key.split('!')[1] ?? ''
      logged.set(endpointId, (logged.get(endpointId) ?? 0) + 1)
    }
    return logged
  }

  saveWindow(window: UpdateWindow): Promise<void> {
    this.#heldWindows.add(windowKey(window))
    return this.#write([{ type: 'put', key: windowKey(window), value: JSON.stringify(window) }])
  }

  deleteWindow(window: UpdateWindow): Promise<void> {
    this.#heldWindows.delete(windowKey(window))
    return this.#write([{ type: 'del', key: windowKey(window) }])
  }

  async adoptWindows(): Promise<UpdateWindow[]> {
    const result: UpdateWindow[] = []
    for await (const [key, value] of this.db.iterator(prefixRange('win!'))) {
      if (this.#heldWindows.has(key)) continue
      this.#heldWindows.add(key)
      result.push(JSON.parse(value) as UpdateWindow)
    }
    return result
  }

  holdWindows(): Promise<void> {
    return Promise.resolve()
  }

  releaseWindows(): Promise<void> {
    // The next start of this process is the only one that can open this database again.
    return Promise.resolve()
  }

  enqueue(
    deliveries: readonly DeliveryRecord[],
    also: { closedWindow?: UpdateWindow; endpointChanges?: readonly EndpointUpdate[] } = {},
  ): Promise<EnqueueResult> {
    return this.#serialize(async () => {
      const ops: Op[] = deliveries.flatMap((delivery) => deliveryOps(null, delivery))
      if (also.closedWindow) ops.push({ type: 'del', key: windowKey(also.closedWindow) })
      for (const { endpointId, change } of also.endpointChanges ?? []) {
        const current = await this.endpoint(endpointId)
        if (current) ops.push(endpointPut(change(current)))
      }
      if (ops.length > 0) await this.db.batch(ops, this.#batchOptions)
      if (also.closedWindow) this.#heldWindows.delete(windowKey(also.closedWindow))
      return 'queued' as const
    })
  }

  async due(limit: number, now: number): Promise<DueEntry[]> {
    const result: DueEntry[] = []
    for await (const key of this.db.keys({ ...prefixRange('due!'), limit })) {
      const entry = parseDueKey(key)
      if (entry && !this.#claims.isHeld(entry.endpointId, entry.deliveryId, now)) result.push(entry)
    }
    return result
  }

  /**
   * Checks, in the write chain, that `entry` is still what the delivery waits on and is due by
   * `now`. The worker reads due entries ahead of sending, and an attempt that finishes in between
   * moves its delivery to a new entry (or settles it) without the reader knowing: sent from the
   * old entry, a retry would go out at once instead of after its backoff (SPEC R44, issue 13).
   * Running after every write asked for before it, the check cannot miss such a move.
   */
  claim(entry: DueEntry, now: number, leaseMs: number): Promise<Claim> {
    return this.#serialize(async (): Promise<Claim> => {
      const key = dueKey(entry.at, entry.endpointId, entry.deliveryId)
      const [queued, value] = await this.db.getMany([key, deliveryKey(entry.endpointId, entry.deliveryId)])
      // A delivery's record and its entry change in one batch: a missing entry was moved on.
      if (queued === undefined) return { kind: 'stale' }
      const delivery = parse<DeliveryRecord>(value)
      if (
        delivery?.state.kind !== 'pending' ||
        dueKey(delivery.state.nextAttemptAt, delivery.endpointId, delivery.id) !== key
      ) {
        // Nothing stands behind it: drop it, or every pass would find it due again.
        await this.db.batch([{ type: 'del', key }], this.#batchOptions)
        return { kind: 'orphan' }
      }
      if (entry.at > now) return { kind: 'not-due' }
      if (this.#claims.isHeld(entry.endpointId, entry.deliveryId, now)) return { kind: 'busy' }
      return {
        kind: 'due',
        delivery,
        ticket: this.#claims.take(entry.endpointId, entry.deliveryId, now, leaseMs),
      }
    })
  }

  record(ticket: ClaimTicket, after: DeliveryRecord, endpointChange?: EndpointChange): Promise<Recorded> {
    return this.#serialize(async (): Promise<Recorded> => {
      if (!this.#claims.isCurrent(ticket)) return { kind: 'lost' }
      this.#claims.drop(ticket.endpointId, ticket.deliveryId)
      const before = await this.delivery(ticket.endpointId, ticket.deliveryId)
      if (before?.state.kind !== 'pending') return { kind: 'lost' }
      const ops = deliveryOps(before, after)
      const current = endpointChange ? await this.endpoint(ticket.endpointId) : null
      const endpoint = current && endpointChange ? endpointChange(current) : null
      if (endpoint) ops.push(endpointPut(endpoint))
      await this.db.batch(ops, this.#batchOptions)
      return { kind: 'recorded', endpoint }
    })
  }

  release(ticket: ClaimTicket): Promise<void> {
    // Nothing on disk changed when it was claimed: its entry is due as it was.
    if (this.#claims.isCurrent(ticket)) this.#claims.drop(ticket.endpointId, ticket.deliveryId)
    return Promise.resolve()
  }

  dropDue(entry: DueEntry): Promise<void> {
    return this.#write([{ type: 'del', key: dueKey(entry.at, entry.endpointId, entry.deliveryId) }])
  }

  failPending(endpointId: string, now: number): Promise<number> {
    return this.#serialize(async () => {
      const ops: Op[] = []
      for await (const value of this.db.values(prefixRange(`dl!${endpointId}!`))) {
        const before = JSON.parse(value) as DeliveryRecord
        if (before.state.kind !== 'pending' || this.#claims.isHeld(endpointId, before.id, now)) continue
        ops.push(
          ...deliveryOps(before, {
            ...before,
            state: { kind: 'failed', at: now, reason: { kind: 'endpoint-disabled' } },
          }),
        )
      }
      if (ops.length > 0) await this.db.batch(ops, this.#batchOptions)
      // Each failed delivery is two ops: its entry's delete and its record's put.
      return ops.length / 2
    })
  }

  replay(endpointId: string, deliveryId: string, now: number): Promise<DeliveryRecord | null> {
    return this.#serialize(async () => {
      const before = await this.delivery(endpointId, deliveryId)
      if (before?.state.kind !== 'failed') return null
      const after: DeliveryRecord = { ...before, state: { kind: 'pending', nextAttemptAt: now, failures: 0 } }
      await this.db.batch(deliveryOps(before, after), this.#batchOptions)
      return after
    })
  }

  async delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    return parse<DeliveryRecord>(await this.db.get(deliveryKey(endpointId, deliveryId)))
  }

  async deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const result: DeliveryRecord[] = []
    const range = { ...prefixRange(`dl!${endpointId}!`), reverse: true, limit }
    for await (const value of this.db.values(range)) result.push(JSON.parse(value) as DeliveryRecord)
    return result
  }

  prune(endpointId: string, keep: number): Promise<number> {
    return this.#serialize(async () => {
      const keys: Array<{ key: string; isPending: boolean }> = []
      for await (const [key, value] of this.db.iterator(prefixRange(`dl!${endpointId}!`))) {
        keys.push({ key, isPending: (JSON.parse(value) as DeliveryRecord).state.kind === 'pending' })
      }
      let excess = keys.length - keep
      const ops: Op[] = []
      for (const { key, isPending } of keys) {
        if (excess <= 0) break
        if (isPending) continue
        ops.push({ type: 'del', key })
        excess--
      }
      if (ops.length > 0) await this.db.batch(ops, this.#batchOptions)
      return keys.length - ops.length
    })
  }

  async drain(): Promise<void> {
    await this.#chain.catch(() => undefined)
  }

  #write(ops: Op[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve()
    return this.#serialize(() => this.db.batch(ops, this.#batchOptions))
  }

  #serialize<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(job, job)
    this.#chain = result.catch(() => undefined)
    return result
  }
}

function parse<T>(value: string | undefined): T | null {
  return value === undefined ? null : (JSON.parse(value) as T)
}

function endpointKey(endpointId: string): string {
  return `ep!${endpointId}`
}

function endpointPut(endpoint: EndpointRecord): Op {
  return { type: 'put', key: endpointKey(endpoint.id), value: JSON.stringify(endpoint) }
}

function deliveryOps(before: DeliveryRecord | null, after: DeliveryRecord): Op[] {
  const ops: Op[] = []
  if (before?.state.kind === 'pending')
    ops.push({ type: 'del', key: dueKey(before.state.nextAttemptAt, before.endpointId, before.id) })
  if (after.state.kind === 'pending')
    ops.push({ type: 'put', key: dueKey(after.state.nextAttemptAt, after.endpointId, after.id), value: '' })
  ops.push({ type: 'put', key: deliveryKey(after.endpointId, after.id), value: JSON.stringify(after) })
  return ops
}

function deliveryKey(endpointId: string, deliveryId: string): string {
  return `dl!${endpointId}!${deliveryId}`
}

function dueKey(at: number, endpointId: string, deliveryId: string): string {
  return `due!${String(Math.max(0, Math.floor(at))).padStart(15, '0')}!${endpointId}!${deliveryId}`
}

function parseDueKey(key: string): DueEntry | null {
  const [, at, endpointId, deliveryId] = key.split('!')
  if (at === undefined || endpointId === undefined || deliveryId === undefined) return null
  return { at: Number(at), endpointId, deliveryId }
}

function windowKey(window: UpdateWindow): string {
  return `win!${window.docId}!${window.windowId}`
}

/** Keys starting with `prefix`: ids never contain `!` (R3), and `"` sorts right after `!`. */
function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix.slice(0, -1) + '"' }
}
