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
 * The outbox in memory, for a server running on a store passed in by a test (MemoryStore, a
 * failing store) and for tests of the webhook module: same contract as LevelOutboxStore, gone
 * with the process. Records are kept as JSON text, so a caller's object never aliases what is
 * stored (as with a database).
 */
export class MemoryOutboxStore implements OutboxStore {
  readonly isShared = false
  readonly #endpoints = new Map<string, string>()
  /** endpointId → deliveryId → delivery JSON. */
  readonly #deliveries = new Map<string, Map<string, string>>()
  readonly #windows = new Map<string, string>()
  readonly #heldWindows = new Set<string>()
  readonly #claims = new LocalClaims()

  endpoints(): Promise<EndpointRecord[]> {
    return Promise.resolve([...this.#endpoints.values()].map((value) => JSON.parse(value) as EndpointRecord))
  }

  endpoint(endpointId: string): Promise<EndpointRecord | null> {
    return Promise.resolve(this.#endpoint(endpointId))
  }

  putEndpoint(endpoint: EndpointRecord): Promise<void> {
    this.#endpoints.set(endpoint.id, JSON.stringify(endpoint))
    return Promise.resolve()
  }

  updateEndpoint(endpointId: string, change: EndpointChange): Promise<EndpointRecord | null> {
    const current = this.#endpoint(endpointId)
    if (!current) return Promise.resolve(null)
    const next = change(current)
    this.#endpoints.set(endpointId, JSON.stringify(next))
    return Promise.resolve(next)
  }

  deleteEndpoint(endpointId: string): Promise<void> {
    this.#endpoints.delete(endpointId)
    this.#deliveries.delete(endpointId)
    this.#claims.dropEndpoint(endpointId)
    return Promise.resolve()
  }

  countPending(): Promise<Map<string, number>> {
    return Promise.resolve(this.#count((delivery) => delivery.state.kind === 'pending'))
  }

  countLogged(): Promise<Map<string, number>> {
    return Promise.resolve(this.#count(() => true))
  }

  saveWindow(window: UpdateWindow): Promise<void> {
    this.#windows.set(windowKey(window), JSON.stringify(window))
    this.#heldWindows.add(windowKey(window))
    return Promise.resolve()
  }

  deleteWindow(window: UpdateWindow): Promise<void> {
    this.#windows.delete(windowKey(window))
    this.#heldWindows.delete(windowKey(window))
    return Promise.resolve()
  }

  adoptWindows(): Promise<UpdateWindow[]> {
    const result: UpdateWindow[] = []
    for (const [key, value] of this.#windows) {
      if (this.#heldWindows.has(key)) continue
      this.#heldWindows.add(key)
      result.push(JSON.parse(value) as UpdateWindow)
    }
    return Promise.resolve(result)
  }

  holdWindows(): Promise<void> {
    return Promise.resolve()
  }

  releaseWindows(): Promise<void> {
    // Memory is this process's alone: no other node can adopt its windows.
    return Promise.resolve()
  }

  enqueue(
    deliveries: readonly DeliveryRecord[],
    also: { closedWindow?: UpdateWindow; endpointChanges?: readonly EndpointUpdate[] } = {},
  ): Promise<EnqueueResult> {
    for (const delivery of deliveries) this.#put(delivery)
    if (also.closedWindow) void this.deleteWindow(also.closedWindow)
    for (const { endpointId, change } of also.endpointChanges ?? [])
      void this.updateEndpoint(endpointId, change)
    return Promise.resolve('queued')
  }

  due(limit: number, now: number): Promise<DueEntry[]> {
    const entries: DueEntry[] = []
    for (const [endpointId, log] of this.#deliveries) {
      for (const value of log.values()) {
        const delivery = JSON.parse(value) as DeliveryRecord
        if (delivery.state.kind !== 'pending' || this.#claims.isHeld(endpointId, delivery.id, now)) continue
        entries.push({ at: delivery.state.nextAttemptAt, endpointId, deliveryId: delivery.id })
      }
    }
    // LevelDB's key order: time, then endpoint, then delivery.
    entries.sort(
      (a, b) => a.at - b.at || compare(a.endpointId, b.endpointId) || compare(a.deliveryId, b.deliveryId),
    )
    return Promise.resolve(entries.slice(0, limit))
  }

  claim(entry: DueEntry, now: number, leaseMs: number): Promise<Claim> {
    const delivery = this.#delivery(entry.endpointId, entry.deliveryId)
    if (delivery?.state.kind !== 'pending') return Promise.resolve({ kind: 'stale' })
    if (delivery.state.nextAttemptAt !== entry.at) return Promise.resolve({ kind: 'stale' })
    if (entry.at > now) return Promise.resolve({ kind: 'not-due' })
    if (this.#claims.isHeld(entry.endpointId, entry.deliveryId, now)) return Promise.resolve({ kind: 'busy' })
    const ticket = this.#claims.take(entry.endpointId, entry.deliveryId, now, leaseMs)
    return Promise.resolve({ kind: 'due', delivery, ticket })
  }

  record(ticket: ClaimTicket, after: DeliveryRecord, endpointChange?: EndpointChange): Promise<Recorded> {
    if (!this.#claims.isCurrent(ticket)) return Promise.resolve({ kind: 'lost' })
    this.#claims.drop(ticket.endpointId, ticket.deliveryId)
    if (this.#delivery(ticket.endpointId, ticket.deliveryId)?.state.kind !== 'pending')
      return Promise.resolve({ kind: 'lost' })
    this.#put(after)
    const current = endpointChange ? this.#endpoint(ticket.endpointId) : null
    const endpoint = current && endpointChange ? endpointChange(current) : null
    if (endpoint) this.#endpoints.set(endpoint.id, JSON.stringify(endpoint))
    return Promise.resolve({ kind: 'recorded', endpoint })
  }

  release(ticket: ClaimTicket): Promise<void> {
    if (this.#claims.isCurrent(ticket)) this.#claims.drop(ticket.endpointId, ticket.deliveryId)
    return Promise.resolve()
  }

  dropDue(entry: DueEntry): Promise<void> {
    if (!this.#endpoints.has(entry.endpointId))
      this.#deliveries.get(entry.endpointId)?.delete(entry.deliveryId)
    return Promise.resolve()
  }

  failPending(endpointId: string, now: number): Promise<number> {
    let failed = 0
    for (const value of this.#deliveries.get(endpointId)?.values() ?? []) {
      const before = JSON.parse(value) as DeliveryRecord
      if (before.state.kind !== 'pending' || this.#claims.isHeld(endpointId, before.id, now)) continue
      this.#put({ ...before, state: { kind: 'failed', at: now, reason: { kind: 'endpoint-disabled' } } })
      failed++
    }
    return Promise.resolve(failed)
  }

  replay(endpointId: string, deliveryId: string, now: number): Promise<DeliveryRecord | null> {
    const before = this.#delivery(endpointId, deliveryId)
    if (before?.state.kind !== 'failed') return Promise.resolve(null)
    const after: DeliveryRecord = { ...before, state: { kind: 'pending', nextAttemptAt: now, failures: 0 } }
    this.#put(after)
    return Promise.resolve(after)
  }

  delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    return Promise.resolve(this.#delivery(endpointId, deliveryId))
  }

  deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const ids = [...(this.#deliveries.get(endpointId)?.keys() ?? [])].sort(compare).reverse()
    return Promise.resolve(ids.slice(0, limit).flatMap((id) => this.#delivery(endpointId, id) ?? []))
  }

  prune(endpointId: string, keep: number): Promise<number> {
    const log = this.#deliveries.get(endpointId)
    if (!log) return Promise.resolve(0)
    let excess = log.size - keep
    for (const id of [...log.keys()].sort(compare)) {
      if (excess <= 0) break
      if (this.#delivery(endpointId, id)?.state.kind === 'pending') continue
      log.delete(id)
      excess--
    }
    return Promise.resolve(log.size)
  }

  drain(): Promise<void> {
    return Promise.resolve()
  }

  #endpoint(endpointId: string): EndpointRecord | null {
    const value = this.#endpoints.get(endpointId)
    return value === undefined ? null : (JSON.parse(value) as EndpointRecord)
  }

  #delivery(endpointId: string, deliveryId: string): DeliveryRecord | null {
    const value = this.#deliveries.get(endpointId)?.get(deliveryId)
    return value === undefined ? null : (JSON.parse(value) as DeliveryRecord)
  }

  #put(delivery: DeliveryRecord): void {
    let log = this.#deliveries.get(delivery.endpointId)
    if (!log) this.#deliveries.set(delivery.endpointId, (log = new Map<string, string>()))
    log.set(delivery.id, JSON.stringify(delivery))
  }

  #count(include: (delivery: DeliveryRecord) => boolean): Map<string, number> {
    const counts = new Map<string, number>()
    for (const [endpointId, log] of this.#deliveries) {
      let count = 0
      for (const value of log.values()) if (include(JSON.parse(value) as DeliveryRecord)) count++
      if (count > 0) counts.set(endpointId, count)
    }
    return counts
  }
}

function windowKey(window: UpdateWindow): string {
  return `${window.docId}!${window.windowId}`
}

/** Byte order, as LevelDB and PostgreSQL's "C" collation compare ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
