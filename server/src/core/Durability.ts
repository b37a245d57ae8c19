import { encodeMessage } from '@tandem/shared'
import type { PersistStatus, Persister } from './Persister.ts'
import type { Disposer, Peer } from './types.ts'

/** step2/update messages received on one connection, and the highest of them acked (R7). */
interface Seqs {
  received: number
  acked: number
}

/**
 * What a room handed to the group commit (R6) and what its peers learn of it: cumulative saved
 * acks (R7), the persister's state (R8), and who made edits once they are durable (webhooks, R40).
 */
export class Durability {
  /** Ticket of the latest update this room handed to the persister. */
  #lastTicket = 0
  readonly #peers = new Map<Peer, Seqs>()

  constructor(
    private readonly docId: string,
    private readonly persister: Pick<
      Persister,
      'enqueue' | 'isDurable' | 'whenDurable' | 'afterDurable' | 'onStatus' | 'status'
    >,
    /** Whether `peer` has content waiting outside the document: not saved, so not acked yet. */
    private readonly isWaiting: (peer: Peer) => boolean,
    private readonly onPersisted?: (contributors: readonly string[]) => void,
  ) {}

  /** True while an update of this room is not yet durable; a dirty room is never unloaded (R8). */
  get isDirty(): boolean {
    return !this.persister.isDurable(this.#lastTicket)
  }

  whenSaved(): Promise<void> {
    return this.persister.whenDurable(this.#lastTicket)
  }

  enqueue(update: Uint8Array, writers: Array<[number, string]> | undefined): void {
    this.#lastTicket = this.persister.enqueue(this.docId, update, writers)
  }

  /**
   * Runs `apply`; if it handed edits to the persister, `contributor` is reported as their author
   * once they are durable (R40).
   */
  credit(contributor: () => string, apply: () => boolean): boolean {
    const ticketBefore = this.#lastTicket
    if (!apply()) return false
    if (this.onPersisted && this.#lastTicket !== ticketBefore) {
      const name = contributor()
      const onPersisted = this.onPersisted
      this.persister.afterDurable(this.#lastTicket, () => onPersisted([name]))
    }
    return true
  }

  join(peer: Peer): void {
    this.#peers.set(peer, { received: 0, acked: 0 })
  }

  /** A joining peer that asked for acks learns at once that saves are failing (R8). */
  tellFailing(peer: Peer): void {
    if (peer.wantsAcks && this.persister.status === 'failing') {
      peer.send(encodeMessage({ type: 'persistence', state: 'failing' }))
    }
  }

  leave(peer: Peer): void {
    this.#peers.delete(peer)
  }

  /** Counts a step2/update message from `peer`; returns its number, which its ack will carry. */
  received(peer: Peer): number {
    const seqs = this.#peers.get(peer)
    return seqs ? ++seqs.received : 0
  }

  /** Acks message `seq` of `peer` once everything before it is durable (R7). */
  ackWhenSaved(peer: Peer, seq: number): void {
    const seqs = this.#peers.get(peer)
    if (!peer.wantsAcks || !seqs) return
    // Content waiting for its dependencies is not in the document, so not saved: no ack yet. The
    // message that fills the gap is acked once durable, and acks are cumulative (R7).
    if (this.isWaiting(peer)) return
    const send = (): void => {
      // Acks are cumulative and must never go backwards (R7).
      if (seq <= seqs.acked || !this.#peers.has(peer)) return
      seqs.acked = seq
      peer.send(encodeMessage({ type: 'saved', seq }))
    }
    this.persister.afterDurable(this.#lastTicket, send)
  }

  /** Acks every message `peer` sent so far, once durable (R7). */
  ackReceived(peer: Peer): void {
    const seqs = this.#peers.get(peer)
    if (seqs) this.ackWhenSaved(peer, seqs.received)
  }

  /** Tells peers that asked for acks whenever the persister's state changes (R8). */
  announceStatus(): Disposer {
    return this.persister.onStatus((status: PersistStatus) => {
      const frame = encodeMessage({ type: 'persistence', state: status })
      for (const peer of this.#peers.keys()) if (peer.wantsAcks) peer.send(frame)
    })
  }
}
