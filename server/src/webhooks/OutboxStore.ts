import type { DeliveryRecord, EndpointRecord, UpdateWindow } from './types.ts'

/**
 * The webhook module's storage port (STYLE.md 17, docs/PROTOCOL.md §9.6, SPEC R44, R67): endpoints,
 * open debounce windows and deliveries. Implementations: `LevelOutboxStore` (the documents'
 * LevelDB, one process), `PostgresOutboxStore` (one database, many nodes), `MemoryOutboxStore`
 * (tests, ephemeral runs). One contract suite runs against each (server/test/outboxStoreContract.ts).
 *
 * Times are the caller's clock in ms (`now`), never the database's: retry times, claim leases and
 * window holds are all read and written against the same clock, which tests replace.
 */
export interface OutboxStore {
  /**
   * Other processes write to the same store (PostgreSQL: every node of a cluster). A cache of it
   * (the endpoint table, pending counts) then goes stale and must be re-read; a store only this
   * process writes (LevelDB holds a lock) is exactly what this process wrote.
   */
  readonly isShared: boolean

  endpoints(): Promise<EndpointRecord[]>
  endpoint(endpointId: string): Promise<EndpointRecord | null>
  /** Creates or replaces an endpoint (registration, WEBHOOK_URL at startup). */
  putEndpoint(endpoint: EndpointRecord): Promise<void>
  /**
   * Applies `change` to the endpoint as stored now, atomically (another node may change it at the
   * same time: a failure run, a revocation, an enable). Null when the endpoint is gone.
   */
  updateEndpoint(endpointId: string, change: EndpointChange): Promise<EndpointRecord | null>
  /** Removes the endpoint with its whole delivery log and queue, atomically. */
  deleteEndpoint(endpointId: string): Promise<void>
  /** Pending deliveries per endpoint. */
  countPending(): Promise<Map<string, number>>
  /** Logged deliveries (any state) per endpoint. */
  countLogged(): Promise<Map<string, number>>

  /** Stores an open window (opened, or gained a contributor) as held by this process. */
  saveWindow(window: UpdateWindow, now: number): Promise<void>
  deleteWindow(window: UpdateWindow): Promise<void>
  /**
   * Windows no live process holds — a previous run's, or those of a node that died (its hold
   * expired) — now held by this process, which reopens them (R40: a waiting update survives).
   */
  adoptWindows(now: number): Promise<UpdateWindow[]>
  /** Renews this process's hold on the windows it saved or adopted (shared stores; else a no-op). */
  holdWindows(now: number): Promise<void>
  /** Lets go of this process's windows (it is closing): a live process may adopt them at once. */
  releaseWindows(): Promise<void>

  /**
   * Queues new deliveries; in the same transaction closes the debounce window they came from and
   * applies endpoint changes (revocations), so an event is either queued and its window gone, or
   * neither. `window-taken`: the window is no longer this process's (another node adopted it
   * while this one stalled) and nothing was written; that node reports it.
   */
  enqueue(
    deliveries: readonly DeliveryRecord[],
    also?: { readonly closedWindow?: UpdateWindow; readonly endpointChanges?: readonly EndpointUpdate[] },
  ): Promise<EnqueueResult>
  /**
   * Pending deliveries by the time they are due, at most `limit`. One claimed by an attempt in
   * flight is not due before its claim expires: it is left out, or listed with `at` no earlier
   * than the claim's expiry.
   */
  due(limit: number, now: number): Promise<DueEntry[]>
  /**
   * Claims `entry`'s delivery for one attempt until `now + leaseMs`: while the claim holds, no
   * other claim of it succeeds, in this process or any other. An attempt whose process dies is
   * claimed again once the lease has run out, and sent again under the same id (R44, R67).
   */
  claim(entry: DueEntry, now: number, leaseMs: number): Promise<Claim>
  /**
   * Records an attempt's outcome (the delivery's next state) and, in the same transaction, the
   * endpoint's failure run. `lost`: the claim was taken over after its lease ran out, or the
   * delivery was removed; nothing was written.
   */
  record(ticket: ClaimTicket, after: DeliveryRecord, endpointChange?: EndpointChange): Promise<Recorded>
  /** Gives a claim back unrecorded (the attempt was aborted): the delivery is due again now. */
  release(ticket: ClaimTicket): Promise<void>
  /** Stops listing an entry whose endpoint is gone (removes that delivery). */
  dropDue(entry: DueEntry): Promise<void>
  /**
   * Fails the endpoint's pending deliveries as `endpoint-disabled` (R45), except those claimed by
   * an attempt in flight (their attempt fails them); returns how many it failed.
   */
  failPending(endpointId: string, now: number): Promise<number>
  /** A failed delivery pending again at `now` with a fresh retry budget (R46); null unless failed. */
  replay(endpointId: string, deliveryId: string, now: number): Promise<DeliveryRecord | null>

  delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null>
  /** One endpoint's deliveries, newest first. */
  deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]>
  /** Drops the oldest settled deliveries of an endpoint beyond `keep`; returns how many remain. */
  prune(endpointId: string, keep: number): Promise<number>

  /** Resolves once every write asked for so far has finished (or failed). */
  drain(): Promise<void>
}

/** A pure function of the endpoint as stored now (it may run inside a database transaction). */
export type EndpointChange = (current: EndpointRecord) => EndpointRecord

export interface EndpointUpdate {
  readonly endpointId: string
  readonly change: EndpointChange
}

export type EnqueueResult = 'queued' | 'window-taken'

export interface DueEntry {
  readonly at: number
  readonly endpointId: string
  readonly deliveryId: string
}

/** The right to record one attempt of one delivery, until `until`. */
export interface ClaimTicket {
  readonly endpointId: string
  readonly deliveryId: string
  readonly token: string
  readonly until: number
}

/** What a due entry stands for at the moment the worker is about to send it (`claim`). */
export type Claim =
  /** Pending, this entry is its current one, and its time has come: send it, then `record`. */
  | { readonly kind: 'due'; readonly delivery: DeliveryRecord; readonly ticket: ClaimTicket }
  /** The entry was read before the delivery moved on (sent, rescheduled, settled, claimed elsewhere). */
  | { readonly kind: 'stale' }
  /** Current, but its time has not come. */
  | { readonly kind: 'not-due' }
  /** An entry with no pending delivery behind it; it has been deleted. */
  | { readonly kind: 'orphan' }
  /** Another attempt holds it, or another node is claiming or recording it this very moment. */
  | { readonly kind: 'busy' }

export type Recorded =
  { readonly kind: 'recorded'; readonly endpoint: EndpointRecord | null } | { readonly kind: 'lost' }
