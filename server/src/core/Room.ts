import { CLOSE_REASONS, ProtocolError, decodeMessage, encodeMessage, type CloseReason } from '@tandem/shared'
import type * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { StoredDoc } from '../persistence/DocStore.ts'
import type { DocPresence } from './presenceDirectory.ts'
import type { Persister } from './Persister.ts'
import { DEFAULT_AWARENESS_LIMITS, type AwarenessLimits } from './awarenessValidation.ts'
import { Durability } from './Durability.ts'
import { EditorUpdates, type EditorLimits } from './EditorUpdates.ts'
import { Presence, type PresenceDrop } from './Presence.ts'
import { changesDocument } from './readOnly.ts'
import { RoomDocument } from './RoomDocument.ts'
import { DEFAULT_UPDATE_LIMITS, isEmptyUpdate } from './updateValidation.ts'
import { TurnBroadcast } from './TurnBroadcast.ts'
import { WriterBindings } from './WriterBindings.ts'
import { WriterOwnership } from './WriterOwnership.ts'
import { REMOTE_ORIGIN, isOrigin, type Disposer, type Peer } from './types.ts'

export { WAITING_DETAIL } from './EditorUpdates.ts'

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024
/**
 * Updates a document may hold waiting (R31): a stock client typing through a liveness check (R36)
 * sends one per keystroke, a few hundred at most; each waiting update costs memory and bookkeeping.
 */
const DEFAULT_MAX_WAITING_UPDATES = 1_000
/** Far more than the state vector of any real document (~40k writers). */
const MAX_STATE_VECTOR_BYTES = 256 * 1024
/** The answer to a query when nobody is present: an awareness update of no entries. */
const EMPTY_AWARENESS_FRAME = encodeMessage({ type: 'awareness', update: new Uint8Array([0]) })

export interface RoomLimits extends EditorLimits {
  readonly awareness: AwarenessLimits
}

export interface RoomOptions {
  readonly limits?: Partial<RoomLimits>
  /** Told about every rejected peer (for logs and metrics); never changes the outcome. */
  readonly onReject?: (peer: Peer, reason: CloseReason, detail: string | undefined) => void
  /** Told when edits are durable, with who made them (webhooks; SPEC R40). */
  readonly onPersisted?: (contributors: readonly string[]) => void
  /** The room's memory can no longer be trusted: its owner must unload it (R31). */
  readonly onBroken?: () => void
  /**
   * A connection was replaced by a newer one of the same writer (`next`), or dropped because it
   * stopped answering while another connection needed its ids (`next` null; R36). For logs.
   */
  readonly onSuperseded?: (peer: Peer, next: Peer | null) => void
  /** An awareness entry was dropped (an echo, or someone else's id; R32). For metrics and logs. */
  readonly onPresenceDropped?: (peer: Peer, kind: PresenceDrop, clientId: number) => void
  /** The last editor left (viewers and probes may remain): version history takes a version (R62). */
  readonly onEditorsGone?: () => void
  /** Presence this node's connections changed, for the other nodes of a cluster (R66). */
  readonly onPresence?: (update: Uint8Array) => void
  /** A peer joined or left (the cluster's presence directory, R66). */
  readonly onPeersChanged?: () => void
}

/** What became of an update another node committed (R65). */
export type RemoteOutcome = 'applied' | 'missing' | 'refused'

/**
 * One document in memory with its connected peers. Transport-agnostic: it sees only `Peer`.
 * Speaks the y-websocket protocol (docs/PROTOCOL.md §1): applies peer updates, fans them out to
 * every other peer at once, hands them to the group commit and acks them once durable (R6, R7).
 * Coordinates its parts: the document's lifecycle (RoomDocument), editors' updates
 * (EditorUpdates), who writes as which client id (WriterOwnership), awareness (Presence) and
 * durability reports (Durability).
 */
export class Room {
  readonly #document: RoomDocument
  readonly #presence: Presence
  readonly #ownership: WriterOwnership
  readonly #updates: EditorUpdates
  readonly #durability: Durability
  /** Which writer key may extend which Yjs client id, stored with the document (R33). */
  readonly #bindings: WriterBindings
  readonly #peers = new Set<Peer>()
  readonly #disposers: Disposer[] = []
  readonly #limits: RoomLimits
  readonly #onReject: RoomOptions['onReject']
  readonly #onEditorsGone: RoomOptions['onEditorsGone']
  readonly #onPeersChanged: RoomOptions['onPeersChanged']
  /** Updates applied during this turn of the event loop, broadcast together after it. */
  readonly #broadcast = new TurnBroadcast((frame, skip) => {
    if (this.#document.isBroken) return
    for (const peer of this.#peers) if (peer !== skip) peer.send(frame)
  })

  constructor(
    readonly docId: string,
    stored: StoredDoc | null,
    persister: Persister,
    options: RoomOptions = {},
  ) {
    this.#limits = {
      update: DEFAULT_UPDATE_LIMITS,
      awareness: DEFAULT_AWARENESS_LIMITS,
      maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
      maxWaitingUpdates: DEFAULT_MAX_WAITING_UPDATES,
      ...options.limits,
    }
    this.#onReject = options.onReject
    this.#onEditorsGone = options.onEditorsGone
    this.#onPeersChanged = options.onPeersChanged
    const doc = new Y.Doc()
    this.#bindings = new WriterBindings(stored?.writers)
    this.#document = new RoomDocument(doc, stored?.updates ?? [], {
      changed: (update, origin, frame) => this.#onDocUpdate(update, origin, frame),
      broken: options.onBroken,
    })
    this.#presence = new Presence(doc, this.#limits.awareness, {
      broadcast: (frame) => {
        // Presence may point into content broadcast in this turn: that content goes first.
        this.#broadcast.flush()
        for (const peer of this.#peers) peer.send(frame)
      },
      supersede: (holder, next) => this.#ownership.supersede(holder, next),
      contest: (holder) => this.#ownership.contest(holder),
      reject: (peer, reason, detail) => this.#reject(peer, reason, detail),
      dropped: options.onPresenceDropped,
      publish: options.onPresence,
    })
    this.#ownership = new WriterOwnership(this.#presence, this.#bindings, {
      has: (peer) => this.#peers.has(peer),
      isBroken: () => this.#document.isBroken,
      remove: (peer) => this.remove(peer),
      reject: (peer, reason, detail) => this.#reject(peer, reason, detail),
      answered: () => this.#updates.drain(true),
      superseded: options.onSuperseded,
    })
    this.#updates = new EditorUpdates(this.#document, this.#ownership, this.#limits, {
      has: (peer) => this.#peers.has(peer),
      reject: (peer, reason, detail) => this.#reject(peer, reason, detail),
      apply: (peer, update, isFaithful, frame) => {
        const ticketBefore = this.#durability.lastTicket
        if (!this.#document.apply(update, { kind: 'peer', peer }, isFaithful, frame)) return false
        this.#durability.credit(ticketBefore, () => this.#presence.nameOf(peer))
        return true
      },
      ackReceived: (peer) => this.#durability.ackReceived(peer),
    })
    this.#durability = new Durability(
      docId,
      persister,
      (peer) => this.#updates.holdsFrom(peer),
      options.onPersisted,
    )
    this.#disposers.push(this.#durability.announceStatus())
  }

  /** The document; a room loaded from storage applies its stored updates on first use. */
  get doc(): Y.Doc {
    return this.#document.doc
  }

  /** Whether its stored updates were applied: only then can its content have changed. */
  get isMaterialized(): boolean {
    return this.#document.isMaterialized
  }

  /** An update failed halfway and this room is being given up (R31). */
  get isBroken(): boolean {
    return this.#document.isBroken
  }

  get peerCount(): number {
    return this.#peers.size
  }

  /** True while an update of this room is not yet durable; a dirty room is never unloaded (R8). */
  get isDirty(): boolean {
    return this.#durability.isDirty
  }

  whenSaved(): Promise<void> {
    return this.#durability.whenSaved()
  }

  /** The room's awareness: every state, as y-protocols holds it. */
  get awareness(): awarenessProtocol.Awareness {
    return this.#presence.awareness
  }

  /** Connected peers with the view role. */
  get viewerCount(): number {
    return this.#presence.viewerCount
  }

  /** Who is here, by the names in their awareness states: what the dashboard shows (R27). */
  presence(): { editors: string[]; viewers: string[] } {
    return this.#presence.summary()
  }

  /** The whole document as one update: from storage as it is while nothing is applied yet. */
  fullState(): Uint8Array {
    return this.#document.fullState()
  }

  /**
   * An update another node committed (R65): applied and sent to this node's peers, never stored
   * again; the writer bindings it made are learned (R33). `missing`: it needs content this node
   * lacks (a message it missed); `refused`: it does not fit this document. Either way the caller
   * catches up from the store, which holds whatever another node published.
   */
  applyRemote(received: Uint8Array, writers: ReadonlyArray<readonly [number, string]>): RemoteOutcome {
    if (this.#document.isBroken) return 'refused'
    for (const [client, key] of writers) this.#bindings.learn(client, key)
    const { update, verdict } = this.#document.validate(received, this.#limits.update)
    if (!verdict.ok) return 'refused'
    if (verdict.waitsFor.size > 0) return 'missing'
    if (!this.#document.apply(update, REMOTE_ORIGIN, verdict.isFaithful, null)) return 'refused'
    // Editors' updates of this node may have waited for exactly this content (R31).
    this.#updates.drain(false)
    return 'applied'
  }

  /**
   * Applies what the stored document holds and this room lacks, by its state vector (R65): what
   * other nodes committed while this node missed their messages. Stored content is trusted as a
   * load trusts it; peers receive only what changed.
   */
  catchUp(stored: readonly Uint8Array[], writers?: ReadonlyMap<number, string>): void {
    if (this.#document.isBroken || stored.length === 0) return
    for (const [client, key] of writers ?? []) this.#bindings.learn(client, key)
    const whole = stored.length === 1 ? (stored[0] as Uint8Array) : Y.mergeUpdates([...stored])
    const missing = Y.diffUpdate(whole, Y.encodeStateVector(this.doc))
    if (this.#document.apply(missing, REMOTE_ORIGIN, false, null)) this.#updates.drain(false)
  }

  /** Entries other nodes' connections changed (R66). */
  applyRemotePresence(update: Uint8Array): void {
    if (!this.#document.isBroken) this.#presence.applyRemote(update)
  }

  /** This node's part of the document's presence (R66). */
  localPresenceSummary(): DocPresence {
    const { editors, viewers } = this.#presence.localSummary()
    return {
      connections: this.#peers.size,
      viewers: viewers.length,
      editorNames: editors,
      viewerNames: viewers,
    }
  }

  /** The presence of this node's connections, for a node that asks (R66); null when none. */
  localPresence(): Uint8Array | null {
    return this.#presence.localUpdate()
  }

  /** Closes every peer with `reason` (links were reset, document deleted): not a rejection. */
  closeAll(reason: CloseReason): void {
    for (const peer of [...this.#peers]) {
      this.remove(peer)
      peer.close(reason)
    }
  }

  add(peer: Peer): void {
    this.#peers.add(peer)
    this.#durability.join(peer)
    if (peer.resumeFrom) {
      try {
        peer.send(this.#document.step2For(peer.resumeFrom))
      } catch {
        this.#reject(peer, CLOSE_REASONS.malformedMessage)
        return
      }
    } else {
      peer.send(encodeMessage({ type: 'sync-step1', stateVector: this.#document.stateVector() }))
    }
    const presence = this.#presence.snapshotFrame()
    if (presence) peer.send(presence)
    this.#durability.tellFailing(peer)
    this.#presence.join(peer)
    this.#onPeersChanged?.()
  }

  remove(peer: Peer): void {
    if (!this.#peers.delete(peer)) return
    this.#durability.leave(peer)
    this.#ownership.forget(peer)
    this.#updates.forget(peer)
    this.#presence.leave(peer)
    // Updates that waited for this peer's ids (R36) may go ahead now.
    this.#updates.drain(true)
    if (isEditor(peer) && ![...this.#peers].some(isEditor)) this.#onEditorsGone?.()
    this.#onPeersChanged?.()
  }

  receive(peer: Peer, frame: Uint8Array): void {
    if (!this.#peers.has(peer)) return
    try {
      this.#handle(peer, frame)
    } catch {
      // decodeMessage throws ProtocolError; Yjs and lib0 throw plain errors on garbage. Either way
      // the input came from this peer: only this peer is closed (R11). Unless the stored document
      // itself failed to load when this input needed it: that is 4503 (R10).
      this.#reject(peer, this.isBroken ? CLOSE_REASONS.docUnavailable : CLOSE_REASONS.malformedMessage)
    }
  }

  destroy(): void {
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.#presence.destroy()
    this.#document.destroy()
  }

  #handle(peer: Peer, frame: Uint8Array): void {
    const message = decodeMessage(frame)
    switch (message.type) {
      case 'sync-step1':
        // A state vector names each client once; megabytes of it are an attack on memory (R31).
        if (message.stateVector.byteLength > MAX_STATE_VECTOR_BYTES)
          throw new ProtocolError('state vector too large')
        peer.send(this.#document.step2For(message.stateVector))
        return
      case 'sync-step2':
      case 'sync-update': {
        const seq = this.#durability.received(peer)
        if (peer.role === 'edit') {
          // A sync update frame holding exactly the update is what the room broadcasts if it
          // applies the update as it came: the same bytes go out, not a copy.
          const asReceived = message.type === 'sync-update' && endsWith(frame, message.update) ? frame : null
          const isLiveEdit = message.type === 'sync-update'
          if (!this.#updates.receive(peer, message.update, isLiveEdit, seq, asReceived)) return
        } else if (!isEmptyUpdate(message.update) && changesDocument(this.doc, message.update)) {
          // Never applied, persisted or broadcast; the client is told why and stays connected,
          // as y-websocket clients handle `auth-denied` without reconnecting (R20).
          peer.send(encodeMessage({ type: 'auth-denied', reason: CLOSE_REASONS.readOnly.text }))
        }
        this.#durability.ackWhenSaved(peer, seq)
        return
      }
      case 'awareness':
        // Viewers are present only through the entry the room publishes for them (R21).
        this.#presence.receive(peer, message.update)
        return
      case 'query-awareness':
        peer.send(this.#presence.snapshotFrame() ?? EMPTY_AWARENESS_FRAME)
        return
      case 'ping':
        // The client's heartbeat (docs/PROTOCOL.md §1.4): answered at once, whatever the room does.
        peer.send(encodeMessage({ type: 'pong', nonce: message.nonce }))
        return
      case 'auth-denied':
      case 'saved':
      case 'persistence':
      case 'pong':
        // Server-to-client messages: a client that sends them is broken.
        throw new ProtocolError(`unexpected ${message.type} from client`)
    }
  }

  #reject(peer: Peer, reason: CloseReason, detail?: string): void {
    this.#onReject?.(peer, reason, detail)
    this.remove(peer)
    peer.close(reason)
  }

  /** A change to broadcast, and to persist unless it is stored already. */
  #onDocUpdate(update: Uint8Array, origin: unknown, frame: Uint8Array | null): void {
    this.#broadcast.add(update, isOrigin(origin) && origin.kind === 'peer' ? origin.peer : null, frame)
    // What came from the store or from another node is stored already (R65).
    if (!(isOrigin(origin) && (origin.kind === 'store' || origin.kind === 'remote'))) {
      this.#durability.enqueue(update, this.#bindings.takeUnsaved())
    }
  }
}

/** Whether `part` is a view of `whole`'s last bytes: a frame that holds nothing after it. */
function endsWith(whole: Uint8Array, part: Uint8Array): boolean {
  return (
    part.buffer === whole.buffer && part.byteOffset + part.byteLength === whole.byteOffset + whole.byteLength
  )
}

/** A person who can edit: not a viewer, not a transport probe (R26). */
function isEditor(peer: Peer): boolean {
  return peer.role === 'edit' && !peer.isProbe
}
