import type { EndpointRecord, WebhookEventType } from './types.ts'

/**
 * The endpoints in memory (loaded from the outbox at startup; every change is written through;
 * re-read every second from a shared store, see `webhooks.ts`) with counts of their logged and
 * pending deliveries, so matching an event and bounding queues need no database read on the edit
 * path.
 */
export class EndpointTable {
  readonly #records = new Map<string, EndpointRecord>()
  readonly #logged = new Map<string, number>()
  readonly #pending = new Map<string, number>()

  constructor(
    records: Iterable<EndpointRecord>,
    counts: { logged: ReadonlyMap<string, number>; pending: ReadonlyMap<string, number> },
  ) {
    for (const record of records) this.#records.set(record.id, record)
    for (const [id, count] of counts.logged) this.#logged.set(id, count)
    for (const [id, count] of counts.pending) this.#pending.set(id, count)
  }

  /**
   * Takes the endpoints and pending counts as the store has them now (a shared store, R67: other
   * nodes create, change and remove endpoints and send deliveries). Logged counts stay this
   * node's estimate; they only decide when to prune.
   */
  replace(records: Iterable<EndpointRecord>, pending: ReadonlyMap<string, number>): void {
    this.#records.clear()
    for (const record of records) this.#records.set(record.id, record)
    this.#pending.clear()
    for (const [id, count] of pending) if (this.#records.has(id)) this.#pending.set(id, count)
    for (const id of this.#logged.keys()) if (!this.#records.has(id)) this.#logged.delete(id)
  }

  get(id: string): EndpointRecord | undefined {
    return this.#records.get(id)
  }

  all(): EndpointRecord[] {
    return [...this.#records.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  get size(): number {
    return this.#records.size
  }

  set(record: EndpointRecord): void {
    this.#records.set(record.id, record)
  }

  delete(id: string): void {
    this.#records.delete(id)
    this.#logged.delete(id)
    this.#pending.delete(id)
  }

  /** Active endpoints that want this event for this document (R41: revoked and disabled get none). */
  matching(type: WebhookEventType, docId: string): EndpointRecord[] {
    return this.all().filter(
      (endpoint) =>
        endpoint.status.kind === 'active' &&
        endpoint.events.includes(type) &&
        (endpoint.docId === null || endpoint.docId === docId),
    )
  }

  /** Whether any active endpoint would receive `document.updated` for the document. */
  wantsUpdates(docId: string): boolean {
    for (const endpoint of this.#records.values()) {
      if (endpoint.status.kind !== 'active' || !endpoint.events.includes('document.updated')) continue
      if (endpoint.docId === null || endpoint.docId === docId) return true
    }
    return false
  }

  countFromSource(source: EndpointRecord['source']): number {
    let count = 0
    for (const endpoint of this.#records.values()) if (endpoint.source === source) count++
    return count
  }

  countForDocument(docId: string): number {
    let count = 0
    for (const endpoint of this.#records.values()) if (endpoint.docId === docId) count++
    return count
  }

  pending(id: string): number {
    return this.#pending.get(id) ?? 0
  }

  logged(id: string): number {
    return this.#logged.get(id) ?? 0
  }

  addPending(id: string, delta: number): void {
    if (this.#records.has(id)) this.#pending.set(id, Math.max(0, this.pending(id) + delta))
  }

  addLogged(id: string, delta: number): void {
    if (this.#records.has(id)) this.#logged.set(id, Math.max(0, this.logged(id) + delta))
  }

  setLogged(id: string, count: number): void {
    if (this.#records.has(id)) this.#logged.set(id, count)
  }
}
