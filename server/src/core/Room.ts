import {
  CLOSE_REASONS,
  ProtocolError,
  decodeMessage,
  encodeAwarenessEntries,
  encodeMessage,
  type CloseReason,
} from '@tandem/shared'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { StoredDoc } from '../persistence/DocStore.ts'
import type { PersistStatus, Persister } from './Persister.ts'
import { changesDocument } from './readOnly.ts'
import { SERVER_ORIGIN, STORE_ORIGIN, isOrigin, type Disposer, type Origin, type Peer } from './types.ts'

/** Viewer presence is renewed well inside y-protocols' 30 s awareness timeout. */
const VIEWER_PRESENCE_RENEW_MS = 15_000

interface PeerState {
  readonly origin: Origin
  /** Awareness client ids this peer has announced; removed for everyone when it leaves (R4). */
  readonly clientIds: Set<number>
  /** step2/update messages received on this connection; the saved ack counts the same way (R7). */
  receivedSeq: number
  ackedSeq: number
  /** The awareness entry the room publishes for a viewer (R21); null for editors. */
  viewer: { readonly clientId: number; clock: number } | null
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
  #viewerRenewal: NodeJS.Timeout | null = null

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

  /** Connected peers with the view role. */
  get viewerCount(): number {
    let count = 0
    for (const state of this.#peers.values()) if (state.viewer) count += 1
    return count
  }

  /** Who is here, by the names in their awareness states: what the dashboard shows (R27). */
  presence(): { editors: string[]; viewers: string[] } {
    const editors: string[] = []
    const viewers: string[] = []
    for (const state of this.awareness.getStates().values()) {
      const viewer = (state as { viewer?: { name?: unknown } }).viewer
      const user = (state as { user?: { name?: unknown } }).user
      if (viewer) viewers.push(typeof viewer.name === 'string' ? viewer.name : '')
      else if (user && typeof user.name === 'string') editors.push(user.name)
    }
    return { editors: editors.sort(), viewers: viewers.sort() }
  }

  /** Closes every peer with `reason` (links were reset, document deleted). */
  closeAll(reason: CloseReason): void {
    for (const peer of [...this.#peers.keys()]) this.#reject(peer, reason)
  }

  add(peer: Peer): void {
    const state: PeerState = {
      origin: { kind: 'peer', peer },
      clientIds: new Set(),
      receivedSeq: 0,
      ackedSeq: 0,
      viewer: null,
    }
    this.#peers.set(peer, state)
    if (peer.resumeFrom) {
      try {
        peer.send(
          encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, peer.resumeFrom) }),
        )
      } catch {
        this.#reject(peer, CLOSE_REASONS.malformedMessage)
        return
      }
    } else {
      peer.send(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) }))
    }
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
    if (peer.role === 'view') this.#addViewerPresence(state, peer.viewerName)
  }

  remove(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    this.#peers.delete(peer)
    if (state.clientIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...state.clientIds], SERVER_ORIGIN)
    }
    if (state.viewer) {
      state.viewer.clock += 1
      this.#publishViewers([{ clientId: state.viewer.clientId, clock: state.viewer.clock, state: null }])
      if (this.viewerCount === 0 && this.#viewerRenewal) {
        clearInterval(this.#viewerRenewal)
        this.#viewerRenewal = null
      }
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
    if (this.#viewerRenewal) clearInterval(this.#viewerRenewal)
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
        if (peer.role === 'edit') {
          Y.applyUpdate(this.doc, message.update, state.origin)
        } else if (changesDocument(this.doc, message.update)) {
          // Never applied, persisted or broadcast; the client is told why and stays connected,
          // as y-websocket clients handle `auth-denied` without reconnecting (R20).
          peer.send(encodeMessage({ type: 'auth-denied', reason: CLOSE_REASONS.readOnly.text }))
        }
        if (peer.wantsAcks) this.#ackWhenSaved(peer, state, seq)
        return
      }
      case 'awareness':
        // Viewers are present only through the entry the room publishes for them (R21).
        if (peer.role === 'edit')
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

  #addViewerPresence(state: PeerState, name: string): void {
    state.viewer = { clientId: randomClientId(this.awareness), clock: 1 }
    this.#publishViewers([{ clientId: state.viewer.clientId, clock: 1, state: { viewer: { name } } }])
    this.#viewerRenewal ??= setInterval(() => this.#renewViewers(), VIEWER_PRESENCE_RENEW_MS)
  }

  #renewViewers(): void {
    const entries = []
    for (const [peer, state] of this.#peers) {
      if (!state.viewer) continue
      state.viewer.clock += 1
      entries.push({
        clientId: state.viewer.clientId,
        clock: state.viewer.clock,
        state: { viewer: { name: peer.viewerName } },
      })
    }
    if (entries.length > 0) this.#publishViewers(entries)
  }

  #publishViewers(entries: Parameters<typeof encodeAwarenessEntries>[0]): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(entries), SERVER_ORIGIN)
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

/** A 32-bit awareness client id not in use in this room. */
function randomClientId(awareness: awarenessProtocol.Awareness): number {
  for (;;) {
    const id = Math.floor(Math.random() * 0xffffffff)
    if (!awareness.getStates().has(id) && !awareness.meta.has(id)) return id
  }
}
