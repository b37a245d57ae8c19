import { CLOSE_REASONS, ProtocolError, decodeMessage, encodeMessage, type CloseReason } from '@tandem/shared'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { StoredDoc } from '../persistence/DocStore.ts'
import type { PersistStatus, Persister } from './Persister.ts'
import { STORE_ORIGIN, isOrigin, type Disposer, type Origin, type Peer } from './types.ts'

interface PeerState {
  readonly origin: Origin
  /** Awareness client ids this peer has announced; removed for everyone when it leaves (R4). */
  readonly clientIds: Set<number>
  /** step2/update messages received on this connection; the saved ack counts the same way (R7). */
  receivedSeq: number
  ackedSeq: number
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

/**
 * One document in memory with its connected peers. Transport-agnostic: it sees only `Peer`.
 * Speaks the y-websocket protocol (docs/PROTOCOL.md §1): applies peer updates, fans them out to
 * every other peer at once, hands them to the group commit and acks them once durable (R6, R7).
 */
export class Room {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly #peers = new Map<Peer, PeerState>()
  readonly #disposers: Disposer[] = []
  /** Ticket of the latest update this room handed to the persister. */
  #lastTicket = 0

  constructor(
    readonly docId: string,
    stored: StoredDoc | null,
    private readonly persister: Persister,
  ) {
    this.doc = new Y.Doc()
    if (stored && stored.updates.length > 0) {
      // Throws on an undecodable stored value: the caller fails this document closed (R10).
      Y.applyUpdate(this.doc, Y.mergeUpdates(stored.updates as Uint8Array[]), STORE_ORIGIN)
    }
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.awareness.setLocalState(null)
    this.doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
    this.#disposers.push(
      () => this.doc.off('update', this.#onDocUpdate),
      () => this.awareness.off('update', this.#onAwarenessUpdate),
      persister.onStatus(this.#onPersistStatus),
    )
  }

  get peerCount(): number {
    return this.#peers.size
  }

  /** True while an update of this room is not yet durable; a dirty room is never unloaded (R8). */
  get isDirty(): boolean {
    return !this.persister.isDurable(this.#lastTicket)
  }

  whenSaved(): Promise<void> {
    return this.persister.whenDurable(this.#lastTicket)
  }

  add(peer: Peer): void {
    this.#peers.set(peer, {
      origin: { kind: 'peer', peer },
      clientIds: new Set(),
      receivedSeq: 0,
      ackedSeq: 0,
    })
    peer.send(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) }))
    const states = [...this.awareness.getStates().keys()]
    if (states.length > 0) {
      peer.send(
        encodeMessage({
          type: 'awareness',
          update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, states),
        }),
      )
    }
    if (peer.wantsAcks && this.persister.status === 'failing') {
      peer.send(encodeMessage({ type: 'persistence', state: 'failing' }))
    }
  }

  remove(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    this.#peers.delete(peer)
    if (state.clientIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...state.clientIds], STORE_ORIGIN)
    }
  }

  receive(peer: Peer, frame: Uint8Array): void {
    const state = this.#peers.get(peer)
    if (!state) return
    try {
      this.#handle(peer, state, frame)
    } catch {
      // decodeMessage throws ProtocolError; Yjs and lib0 throw plain errors on garbage. Either way
      // the input came from this peer: only this peer is closed (R11).
      this.#reject(peer, CLOSE_REASONS.malformedMessage)
    }
  }

  destroy(): void {
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.awareness.destroy()
    this.doc.destroy()
  }

  #handle(peer: Peer, state: PeerState, frame: Uint8Array): void {
    const message = decodeMessage(frame)
    switch (message.type) {
      case 'sync-step1':
        peer.send(
          encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, message.stateVector) }),
        )
        return
      case 'sync-step2':
      case 'sync-update': {
        const seq = ++state.receivedSeq
        Y.applyUpdate(this.doc, message.update, state.origin)
        if (peer.wantsAcks) this.#ackWhenSaved(peer, state, seq)
        return
      }
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, state.origin)
        return
      case 'query-awareness':
        peer.send(
          encodeMessage({
            type: 'awareness',
            update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [
              ...this.awareness.getStates().keys(),
            ]),
          }),
        )
        return
      case 'auth-denied':
      case 'saved':
      case 'persistence':
        // Server-to-client messages: a client that sends them is broken.
        throw new ProtocolError(`unexpected ${message.type} from client`)
    }
  }

  #ackWhenSaved(peer: Peer, state: PeerState, seq: number): void {
    const send = (): void => {
      // Acks are cumulative and must never go backwards (R7).
      if (seq <= state.ackedSeq || !this.#peers.has(peer)) return
      state.ackedSeq = seq
      peer.send(encodeMessage({ type: 'saved', seq }))
    }
    if (this.persister.isDurable(this.#lastTicket)) send()
    else void this.persister.whenDurable(this.#lastTicket).then(send)
  }

  #reject(peer: Peer, reason: CloseReason): void {
    this.remove(peer)
    peer.close(reason)
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    // Encoded once, the same bytes go to every other peer.
    const frame = encodeMessage({ type: 'sync-update', update })
    const from = isOrigin(origin) && origin.kind === 'peer' ? origin.peer : null
    for (const peer of this.#peers.keys()) if (peer !== from) peer.send(frame)
    if (!(isOrigin(origin) && origin.kind === 'store')) {
      this.#lastTicket = this.persister.enqueue(this.docId, update)
    }
  }

  readonly #onAwarenessUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    if (isOrigin(origin) && origin.kind === 'peer') {
      const state = this.#peers.get(origin.peer)
      for (const id of added) state?.clientIds.add(id)
      for (const id of removed) state?.clientIds.delete(id)
    }
    const changed = added.concat(updated, removed)
    const frame = encodeMessage({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
    })
    for (const peer of this.#peers.keys()) peer.send(frame)
  }

  readonly #onPersistStatus = (status: PersistStatus): void => {
    const frame = encodeMessage({ type: 'persistence', state: status })
    for (const peer of this.#peers.keys()) if (peer.wantsAcks) peer.send(frame)
  }
}
