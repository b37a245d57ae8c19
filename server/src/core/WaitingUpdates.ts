import type { Peer } from './types.ts'

/** An editor's update that references content the document does not have yet. */
export interface WaitingUpdate {
  readonly peer: Peer
  /** The sender's message number, acknowledged once the update is applied and durable (R7). */
  readonly seq: number
  readonly update: Uint8Array
  /** A live edit (sync update) rather than a resync (step 2): checked as such again (R33). */
  readonly isLiveEdit: boolean
}

/**
 * What an update waits for: per client id, the clock the document must reach (content it
 * references), or 'owner': a connection that may be dead holds ids it writes (R36).
 */
export type WaitReason = ReadonlyMap<number, number> | 'owner'

interface Entry extends WaitingUpdate {
  /** Arrival order: updates that become ready together are offered in the order they came. */
  readonly order: number
  reason: WaitReason
}

/**
 * Updates held by the room, outside the Y.Doc, until what they reference arrives (R31). Yjs would
 * keep such an update in its own pending set and integrate it later without anyone validating it
 * against the content it finally lands on; held here, each one is validated again, as a whole,
 * once what it waits for is there, and applied only when nothing it needs is missing.
 * An update is indexed under one client id whose clock it still needs: when the document
 * advances, only updates whose every need is met are validated again, so thousands waiting cost an
 * edit a few comparisons, not thousands of validations. Bounded in count and bytes by the room; a
 * peer's updates are dropped when it leaves (it resyncs them on reconnect: its step 2 carries
 * everything the server lacks).
 */
export class WaitingUpdates {
  #order = 0
  /** Every waiting update, in arrival order. */
  readonly #entries = new Set<Entry>()
  /** Per client id: the updates that need its clock to advance. */
  readonly #blocked = new Map<number, Set<Entry>>()
  /** Updates waiting for ownership of ids to settle. */
  readonly #owned = new Set<Entry>()
  /** Updates whose needs were met by the time they were indexed: offered at the next drain. */
  readonly #unblocked = new Set<Entry>()
  readonly #perPeer = new Map<Peer, number>()
  #bytes = 0
  /** The entry `drain` is offering: as good as gone for `holdsFrom`. */
  #settling: Entry | null = null

  get bytes(): number {
    return this.#bytes
  }

  get count(): number {
    return this.#entries.size
  }

  get isEmpty(): boolean {
    return this.#entries.size === 0
  }

  add(update: WaitingUpdate, reason: WaitReason): void {
    const entry: Entry = { ...update, order: this.#order++, reason }
    this.#entries.add(entry)
    this.#bytes += entry.update.byteLength
    this.#perPeer.set(entry.peer, (this.#perPeer.get(entry.peer) ?? 0) + 1)
    // Validated against the document as it is: every need is unmet.
    this.#index(entry, reason === 'owner' ? 'owner' : (reason.keys().next().value ?? null))
  }

  holdsFrom(peer: Peer): boolean {
    const held = this.#perPeer.get(peer) ?? 0
    return held - (this.#settling?.peer === peer ? 1 : 0) > 0
  }

  removePeer(peer: Peer): void {
    if (!this.#perPeer.has(peer)) return
    for (const entry of this.#entries) if (entry.peer === peer) this.#delete(entry)
  }

  /**
   * Offers `settle` every update whose needs `stateOf` (a client id's clock in the document) now
   * meets, and, with `ownersChanged`, every update waiting for ownership, in arrival order; then
   * again those that what was applied unblocked, until none is ready. `settle` answers 'done'
   * (applied or refused: removed) or what the update waits for now.
   */
  drain(
    stateOf: (client: number) => number,
    settle: (entry: WaitingUpdate) => WaitReason | 'done',
    ownersChanged: boolean,
  ): void {
    let ready = this.#ready(stateOf, ownersChanged)
    while (ready.length > 0) {
      let hasSettled = false
      for (const entry of ready) {
        // Refusing an update closes its peer, which removes that peer's other updates.
        if (!this.#entries.has(entry)) continue
        this.#settling = entry
        const outcome = settle(entry)
        this.#settling = null
        if (!this.#entries.has(entry)) continue
        if (outcome === 'done') {
          this.#delete(entry)
          hasSettled = true
          continue
        }
        entry.reason = outcome
        this.#index(entry, outcome === 'owner' ? 'owner' : unmetClient(outcome, stateOf))
      }
      ready = hasSettled ? this.#ready(stateOf, false) : []
    }
  }

  /** Takes out of the indexes, in arrival order, the updates that may go ahead now. */
  #ready(stateOf: (client: number) => number, ownersChanged: boolean): Entry[] {
    const ready: Entry[] = [...this.#unblocked]
    this.#unblocked.clear()
    if (ownersChanged) {
      for (const entry of this.#owned) ready.push(entry)
      this.#owned.clear()
    }
    for (const [client, entries] of this.#blocked) {
      const state = stateOf(client)
      for (const entry of entries) {
        const reason = entry.reason as ReadonlyMap<number, number>
        if ((reason.get(client) ?? 0) > state) continue
        entries.delete(entry)
        const unmet = unmetClient(reason, stateOf)
        if (unmet === null) ready.push(entry)
        else this.#blockOn(entry, unmet)
      }
      if (entries.size === 0) this.#blocked.delete(client)
    }
    return ready.sort((a, b) => a.order - b.order)
  }

  /** Indexes an entry under what it waits for; null: it waits for nothing more (offered next drain). */
  #index(entry: Entry, unmet: number | 'owner' | null): void {
    if (unmet === 'owner') this.#owned.add(entry)
    else if (unmet === null) this.#unblocked.add(entry)
    else this.#blockOn(entry, unmet)
  }

  #blockOn(entry: Entry, client: number): void {
    let entries = this.#blocked.get(client)
    if (!entries) this.#blocked.set(client, (entries = new Set()))
    entries.add(entry)
  }

  #delete(entry: Entry): void {
    this.#entries.delete(entry)
    this.#owned.delete(entry)
    this.#unblocked.delete(entry)
    if (entry.reason !== 'owner')
      for (const client of entry.reason.keys()) this.#blocked.get(client)?.delete(entry)
    this.#bytes -= entry.update.byteLength
    const held = (this.#perPeer.get(entry.peer) ?? 1) - 1
    if (held === 0) this.#perPeer.delete(entry.peer)
    else this.#perPeer.set(entry.peer, held)
  }
}

/** A client id whose needed clock the document has not reached, or null when all are met. */
function unmetClient(
  reason: ReadonlyMap<number, number>,
  stateOf: (client: number) => number,
): number | null {
  for (const [client, clock] of reason) if (stateOf(client) < clock) return client
  return null
}
