import { createHash } from 'node:crypto'
import * as Y from 'yjs'

/** `none`: a send-only client (replays precomputed updates) that keeps nothing and is not compared. */
export type ReplicaMode = 'light' | 'full' | 'none'

/** The content every replica is compared by: length plus a hash of the text. */
export interface Digest {
  readonly length: number
  readonly sha1: string
}

export function digestOf(text: string): Digest {
  return { length: text.length, sha1: createHash('sha1').update(text).digest('hex') }
}

/**
 * One client's copy of a document. A `light` replica keeps the updates it received and applies
 * them only when verified, so a generator process can host hundreds of readers; a `full` replica
 * applies each update as it arrives (joiners, whose clock stops when the content is there).
 * Either way it timestamps, per writer (Yjs client id) and clock, when each inserted character
 * arrived: writers insert one character per update, so clock k is the writer's (k+1)-th change.
 */
export class Replica {
  readonly doc: Y.Doc | null
  readonly isKept: boolean
  readonly #received: Uint8Array[] = []
  readonly #clocks = new Map<number, number>()
  readonly #arrivals = new Map<number, number[]>()

  constructor(
    mode: ReplicaMode,
    /** The Yjs client id this client writes as: its own echoes are not deliveries. */
    private readonly ownClientId: number | null,
  ) {
    this.doc = mode === 'full' ? new Y.Doc() : null
    this.isKept = mode !== 'none'
  }

  receive(update: Uint8Array, now: number): void {
    if (this.doc) Y.applyUpdate(this.doc, update, 'remote')
    else if (this.isKept) this.#received.push(update)
    const { from, to } = Y.parseUpdateMeta(update)
    for (const [client, end] of to) {
      if (client === this.ownClientId) continue
      const seen = this.#clocks.get(client) ?? 0
      if (end <= seen) continue
      this.#clocks.set(client, end)
      let arrivals = this.#arrivals.get(client)
      if (!arrivals) this.#arrivals.set(client, (arrivals = []))
      // A gap (start beyond what we had) stays undefined and is reported as a lost update.
      for (let clock = Math.max(seen, from.get(client) ?? seen); clock < end; clock++) arrivals[clock] = now
    }
  }

  clockOf(client: number): number {
    return this.#clocks.get(client) ?? 0
  }

  arrivalsOf(client: number): readonly number[] | undefined {
    return this.#arrivals.get(client)
  }

  /** What to answer a sync step 1 with: everything this replica can vouch for. */
  diff(stateVector: Uint8Array, own: Y.Doc | null): Uint8Array {
    if (this.doc) return Y.encodeStateAsUpdate(this.doc, stateVector)
    if (own) return Y.encodeStateAsUpdate(own, stateVector)
    return Y.encodeStateAsUpdate(new Y.Doc())
  }

  /** The text this replica holds: its own writes plus everything it received. */
  text(own: Y.Doc | null): string {
    if (this.doc) {
      if (own) Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(own), 'own')
      return this.doc.getText('t').toString()
    }
    const doc = new Y.Doc()
    Y.transact(doc, () => {
      if (own) Y.applyUpdate(doc, Y.encodeStateAsUpdate(own))
      for (const update of this.#received) Y.applyUpdate(doc, update)
    })
    const text = doc.getText('t').toString()
    doc.destroy()
    return text
  }
}
