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
 * Updates held by the room, outside the Y.Doc, until what they reference arrives (R31). Yjs would
 * keep such an update in its own pending set and integrate it later without anyone validating it
 * against the content it finally lands on; held here, each one is validated again, as a whole,
 * every time the document advances, and applied only when nothing it needs is missing.
 * Bounded in bytes per document; a peer's updates are dropped when it leaves (it resyncs them on
 * reconnect: its step 2 carries everything the server lacks).
 */
export class WaitingUpdates {
  #entries: WaitingUpdate[] = []
  #bytes = 0
  /** The entry `drain` is offering: as good as gone for `holdsFrom`. */
  #settling: WaitingUpdate | null = null

  get bytes(): number {
    return this.#bytes
  }

  get isEmpty(): boolean {
    return this.#entries.length === 0
  }

  add(entry: WaitingUpdate): void {
    this.#entries.push(entry)
    this.#bytes += entry.update.byteLength
  }

  holdsFrom(peer: Peer): boolean {
    return this.#entries.some((entry) => entry.peer === peer && entry !== this.#settling)
  }

  removePeer(peer: Peer): void {
    if (!this.#entries.some((entry) => entry.peer === peer)) return
    this.#keep((entry) => entry.peer !== peer)
  }

  /**
   * Offers every held update to `settle` in arrival order until a pass settles none: 'keep' leaves
   * it waiting, 'done' (applied or refused) removes it. An applied update can satisfy one offered
   * before it, hence the passes; each pass that continues removed at least one entry.
   */
  drain(settle: (entry: WaitingUpdate) => 'keep' | 'done'): void {
    for (let settled = true; settled && this.#entries.length > 0;) {
      settled = false
      for (const entry of [...this.#entries]) {
        if (!this.#entries.includes(entry)) continue
        this.#settling = entry
        const outcome = settle(entry)
        this.#settling = null
        if (outcome === 'keep') continue
        this.#keep((other) => other !== entry)
        settled = true
      }
    }
  }

  #keep(predicate: (entry: WaitingUpdate) => boolean): void {
    this.#entries = this.#entries.filter(predicate)
    this.#bytes = this.#entries.reduce((sum, entry) => sum + entry.update.byteLength, 0)
  }
}
