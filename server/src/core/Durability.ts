import { encodeMessage } from '@tandem/shared'
import type { PersistStatus, Persister } from './Persister.ts'
import type { Disposer, Peer } from './types.ts'

/** step2/update messages received on one connection, and the highest of them acked (R7). */
interface Seqs {
  received: number
  acked: number
  /** The highest seq whose ticket is durable, to be acked once this turn's durable tickets are counted. */
  durable: number
}

/** What waits for a ticket to be durable: an ack, an author to report, or both. */
interface Waiting {
  readonly ticket: number
  readonly peer: Peer | null
  readonly seq: number
  readonly contributor: string | null
}

/**
 * What a room handed to the group commit (R6) and what its peers learn of it: cumulative saved
 * acks (R7), the persister's state (R8), and who made edits once they are durable (webhooks, R40).
 */
export class Durability {
  /** Ticket of the latest update this room handed to the persister. */
  #lastTicket = 0
  readonly #peers = new Map<Peer, Seqs>()
  /**
   * Acks and authors waiting for their tickets, in ticket order. One persister callback per room
   * serves them all: a commit of hundreds of one peer's updates sends that peer one ack (the
   * highest, acks being cumulative) and reports its authors once (R7, R40).
   */
  #waiting: Waiting[] = []
  #isArmed = false

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

  /** The ticket of the latest update handed to the persister; see `credit`. */
  get lastTicket(): number {
    return this.#lastTicket
  }

  /**
   * Edits handed to the persister since `ticketBefore` are reported with `peer`'s name as their
   * author once they are durable (R40).
   */
  credit(ticketBefore: number, nameOf: () => string): void {
    if (!this.onPersisted || this.#lastTicket === ticketBefore) return
    this.#wait({ ticket: this.#lastTicket, peer: null, seq: 0, contributor: nameOf() })
  }

  join(peer: Peer): void {
    this.#peers.set(peer, { received: 0, acked: 0, durable: 0 })
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
    if (this.#waiting.length === 0 && this.persister.isDurable(this.#lastTicket)) {
      // Nothing of this room is waiting: durable already, acked at once.
      if (seq > seqs.acked) {
        seqs.acked = seq
        peer.send(encodeMessage({ type: 'saved', seq }))
      }
      return
    }
    this.#wait({ ticket: this.#lastTicket, peer, seq, contributor: null })
  }

  #wait(entry: Waiting): void {
    this.#waiting.push(entry)
    if (this.#isArmed) return
    this.#isArmed = true
    this.persister.afterDurable(entry.ticket, this.#onDurable)
  }

  /** Sends what the durable tickets allow: one ack per peer, one report of authors. */
  readonly #onDurable = (): void => {
    this.#isArmed = false
    const waiting = this.#waiting
    let done = 0
    const touched: Array<[Peer, Seqs]> = []
    const contributors = new Set<string>()
    while (done < waiting.length && this.persister.isDurable((waiting[done] as Waiting).ticket)) {
      const { peer, seq, contributor } = waiting[done] as Waiting
      done += 1
      if (contributor !== null) contributors.add(contributor)
      const seqs = peer && this.#peers.get(peer)
      if (!peer || !seqs || seq <= seqs.durable) continue
      if (seqs.durable <= seqs.acked) touched.push([peer, seqs])
      seqs.durable = seq
    }
    this.#waiting = done === waiting.length ? [] : waiting.slice(done)
    for (const [peer, seqs] of touched) {
      // Acks are cumulative and must never go backwards (R7).
      if (seqs.durable <= seqs.acked) continue
      seqs.acked = seqs.durable
      peer.send(encodeMessage({ type: 'saved', seq: seqs.acked }))
    }
    if (contributors.size > 0) this.onPersisted?.([...contributors])
    const next = this.#waiting[0]
    if (next) {
      this.#isArmed = true
      this.persister.afterDurable(next.ticket, this.#onDurable)
    }
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
