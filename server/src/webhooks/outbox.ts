import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level'
import type { DeliveryRecord, EndpointRecord, UpdateWindow } from './types.ts'

/**
 * The keyspace the webhooks own: a sublevel of the documents' LevelDB (`store.sublevel('webhooks')`),
 * utf8 keys and values. Sharing the database means one DATA_DIR, one lock, one backup.
 */
export type WebhookDb = AbstractLevel<string | Buffer | Uint8Array, string, string>

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

export interface DueEntry {
  readonly at: number
  readonly endpointId: string
  readonly deliveryId: string
}

/** What a due entry stands for at the moment the worker is about to send it (`Outbox.claim`). */
export type Claim =
  /** Pending, this entry is its current one, and its time has come: send it. */
  | { readonly kind: 'due'; readonly delivery: DeliveryRecord }
  /** The entry was read before the delivery moved on (sent, rescheduled, settled); it is gone. */
  | { readonly kind: 'stale' }
  /** Current, but its time has not come. */
  | { readonly kind: 'not-due' }
  /** An entry with no pending delivery behind it; it has been deleted. */
  | { readonly kind: 'orphan' }

/**
 * The durable outbox (docs/PROTOCOL.md §9.6, SPEC R44). Keys:
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
 * nothing is re-queued under another id. Writes run one at a time through a chain, in call order.
 */
export class Outbox {
  #chain: Promise<unknown> = Promise.resolve()
  /** classic-level's `sync` (fsync, SYNC_WRITES); sublevels pass it through to the database. */
  readonly #batchOptions: AbstractBatchOptions<string, string>

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

  async windows(): Promise<UpdateWindow[]> {
    const result: UpdateWindow[] = []
    for await (const value of this.db.values(prefixRange('win!')))
      result.push(JSON.parse(value) as UpdateWindow)
    return result
  }

  /** Delivery counts per endpoint (the whole log, and the pending part), read once at startup. */
  async counts(): Promise<{ logged: Map<string, number>; pending: Map<string, number> }> {
    const logged = new Map<string, number>()
    const pending = new Map<string, number>()
    for await (const key of this.db.keys(prefixRange('dl!'))) {
      const endpointId = key.split('!')[1] ?? ''
      logged.set(endpointId, (logged.get(endpointId) ?? 0) + 1)
    }
    for await (const key of this.db.keys(prefixRange('due!'))) {
      const endpointId = parseDueKey(key)?.endpointId ?? ''
      pending.set(endpointId, (pending.get(endpointId) ?? 0) + 1)
    }
    return { logged, pending }
  }

  /** Pending deliveries in the order they are due, at most `limit`. */
  async due(limit: number): Promise<DueEntry[]> {
    const result: DueEntry[] = []
    for await (const key of this.db.keys({ ...prefixRange('due!'), limit })) {
      const entry = parseDueKey(key)
      if (entry) result.push(entry)
    }
    return result
  }

  async delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    const value = await this.db.get(deliveryKey(endpointId, deliveryId))
    return value === undefined ? null : (JSON.parse(value) as DeliveryRecord)
  }

  /** One endpoint's deliveries, newest first. */
  async deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const result: DeliveryRecord[] = []
    const range = { ...prefixRange(`dl!${endpointId}!`), reverse: true, limit }
    for await (const value of this.db.values(range)) result.push(JSON.parse(value) as DeliveryRecord)
    return result
  }

  /** Every pending delivery of one endpoint (to fail them when it is disabled). */
  async pendingOf(endpointId: string): Promise<DeliveryRecord[]> {
    const result: DeliveryRecord[] = []
    for await (const value of this.db.values(prefixRange(`dl!${endpointId}!`))) {
      const delivery = JSON.parse(value) as DeliveryRecord
      if (delivery.state.kind === 'pending') result.push(delivery)
    }
    return result
  }

  putEndpoint(endpoint: EndpointRecord): Promise<void> {
    return this.#write([endpointPut(endpoint)])
  }

  /** Removes the endpoint, its whole delivery log and its queue, in one batch. */
  deleteEndpoint(endpointId: string): Promise<void> {
    return this.#serialize(async () => {
      const ops: Op[] = [{ type: 'del', key: `ep!${endpointId}` }]
      for await (const [key, value] of this.db.iterator(prefixRange(`dl!${endpointId}!`))) {
        ops.push({ type: 'del', key })
        const delivery = JSON.parse(value) as DeliveryRecord
        if (delivery.state.kind === 'pending')
          ops.push({ type: 'del', key: dueKey(delivery.state.nextAttemptAt, endpointId, delivery.id) })
      }
      await this.db.batch(ops, this.#batchOptions)
    })
  }

  /**
   * Queues new deliveries; in the same batch, optionally closes the debounce window they came from
   * and saves changed endpoints, so an event is either queued and its window gone, or neither.
   */
  enqueue(
    deliveries: readonly DeliveryRecord[],
    also: { closedWindow?: UpdateWindow; endpoints?: readonly EndpointRecord[] } = {},
  ): Promise<void> {
    const ops: Op[] = deliveries.flatMap((delivery) => deliveryOps(null, delivery))
    if (also.closedWindow) ops.push({ type: 'del', key: windowKey(also.closedWindow) })
    for (const endpoint of also.endpoints ?? []) ops.push(endpointPut(endpoint))
    return this.#write(ops)
  }

  /** Moves deliveries from one state to the next (and saves the endpoint's failure run with them). */
  settle(
    changes: ReadonlyArray<{ before: DeliveryRecord; after: DeliveryRecord }>,
    endpoint?: EndpointRecord,
  ): Promise<void> {
    const ops = changes.flatMap(({ before, after }) => deliveryOps(before, after))
    if (endpoint) ops.push(endpointPut(endpoint))
    return this.#write(ops)
  }

  /**
   * Checks, in the write chain, that `entry` is still what the delivery waits on and is due by
   * `now`. The worker reads due entries ahead of sending, and an attempt that finishes in between
   * moves its delivery to a new entry (or settles it) without the reader knowing: sent from the
   * old entry, a retry would go out at once instead of after its backoff (SPEC R44, issue 13).
   * Running after every write asked for before it, the check cannot miss such a move.
   */
  claim(entry: DueEntry, now: number): Promise<Claim> {
    return this.#serialize(async (): Promise<Claim> => {
      const key = dueKey(entry.at, entry.endpointId, entry.deliveryId)
      const [queued, value] = await this.db.getMany([key, deliveryKey(entry.endpointId, entry.deliveryId)])
      // A delivery's record and its entry change in one batch: a missing entry was moved on.
      if (queued === undefined) return { kind: 'stale' }
      const delivery = value === undefined ? null : (JSON.parse(value) as DeliveryRecord)
      if (
        delivery?.state.kind !== 'pending' ||
        dueKey(delivery.state.nextAttemptAt, delivery.endpointId, delivery.id) !== key
      ) {
        // Nothing stands behind it: drop it, or every pass would find it due again.
        await this.db.batch([{ type: 'del', key }], this.#batchOptions)
        return { kind: 'orphan' }
      }
      if (entry.at > now) return { kind: 'not-due' }
      return { kind: 'due', delivery }
    })
  }

  dropDue(entry: DueEntry): Promise<void> {
    return this.#write([{ type: 'del', key: dueKey(entry.at, entry.endpointId, entry.deliveryId) }])
  }

  saveWindow(window: UpdateWindow): Promise<void> {
    return this.#write([{ type: 'put', key: windowKey(window), value: JSON.stringify(window) }])
  }

  deleteWindow(window: UpdateWindow): Promise<void> {
    return this.#write([{ type: 'del', key: windowKey(window) }])
  }

  /** Drops the oldest settled deliveries of an endpoint beyond `keep`; returns how many remain. */
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

  /** Resolves once every write asked for so far has finished (or failed). */
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

function endpointPut(endpoint: EndpointRecord): Op {
  return { type: 'put', key: `ep!${endpoint.id}`, value: JSON.stringify(endpoint) }
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
