import { CLOSE_REASONS, ProtocolError, decodeMessage, encodeMessage, type CloseReason } from '@tandem/shared'
import type * as awarenessProtocol from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import type { StoredDoc } from '../persistence/DocStore.ts'
import type { DocPresence } from './presenceDirectory.ts'
import type { PersistStatus, Persister } from './Persister.ts'
import { DEFAULT_AWARENESS_LIMITS, type AwarenessLimits } from './awarenessValidation.ts'
import { MAX_CLIENT_IDS_PER_PEER, Presence, isSameWriter, type PresenceDrop } from './Presence.ts'
import { changesDocument } from './readOnly.ts'
import {
  DEFAULT_UPDATE_LIMITS,
  isEmptyUpdate,
  validateUpdate,
  type UpdateLimits,
} from './updateValidation.ts'
import { stateVectorOf } from './storedState.ts'
import { TurnBroadcast } from './TurnBroadcast.ts'
import { WaitingUpdates, type WaitReason, type WaitingUpdate } from './WaitingUpdates.ts'
import { STOCK_WRITER, WriterBindings } from './WriterBindings.ts'
import { REMOTE_ORIGIN, STORE_ORIGIN, isOrigin, type Disposer, type Origin, type Peer } from './types.ts'

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024
/**
 * Updates a document may hold waiting (R31): a stock client typing through a liveness check (R36)
 * sends one per keystroke, a few hundred at most; each waiting update costs memory and bookkeeping.
 */
const DEFAULT_MAX_WAITING_UPDATES = 1_000
/** Far more than the state vector of any real document (~40k writers). */
const MAX_STATE_VECTOR_BYTES = 256 * 1024
/**
 * How long a contested holder has to answer a liveness check (R36): a WebSocket pong, a new poll.
 * Generous, so a live client behind seconds of latency is not taken for dead.
 */
const LIVENESS_TIMEOUT_MS = 8_000
/** How long a holder that answered counts as live before it is checked again. */
const LIVENESS_FRESH_MS = 10_000
/** The answer to a query when nobody is present: an awareness update of no entries. */
const EMPTY_AWARENESS_FRAME = encodeMessage({ type: 'awareness', update: new Uint8Array([0]) })
/** Starts the detail of a rejection for an update that was waiting, not the one just received. */
export const WAITING_DETAIL = 'waiting update: '

export interface RoomLimits {
  readonly update: UpdateLimits
  readonly awareness: AwarenessLimits
  /** Bytes of updates waiting for missing dependencies a document may hold (R31). */
  readonly maxPendingBytes: number
  /** How many updates may wait for missing dependencies in a document (R31). */
  readonly maxWaitingUpdates: number
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

interface PeerState {
  readonly peer: Peer
  readonly origin: Origin
  /** step2/update messages received on this connection; the saved ack counts the same way (R7). */
  receivedSeq: number
  ackedSeq: number
  /** Yjs client ids this peer's live edits claimed (R33). */
  readonly writtenClients: Set<number>
}

/** What the room knows of a holder someone contested (R36). */
type Liveness = { readonly kind: 'checking' } | { readonly kind: 'alive'; readonly atMs: number }
const CHECKING: Liveness = Object.freeze({ kind: 'checking' })

/** How an editor's update stands against the document and the ids others hold (R31, R33, R36). */
type Admission =
  | {
      readonly verdict: 'ok'
      readonly update: Uint8Array
      readonly writtenClients: readonly number[]
      /** Per client id, the clock the document must reach first; empty when it applies now. */
      readonly waitsFor: ReadonlyMap<number, number>
      /** Yjs integrates it as it is: its bytes are what changed (see validateUpdate). */
      readonly isFaithful: boolean
    }
  | { readonly verdict: 'rejected'; readonly reason: CloseReason; readonly detail: string }
  /** It writes ids a connection holds that may be dead: it waits until that is known. */
  | { readonly verdict: 'held' }

/**
 * One document in memory with its connected peers. Transport-agnostic: it sees only `Peer`.
 * Speaks the y-websocket protocol (docs/PROTOCOL.md §1): applies peer updates, fans them out to
 * every other peer at once, hands them to the group commit and acks them once durable (R6, R7).
 */
export class Room {
  readonly #doc: Y.Doc
  /**
   * Stored updates not applied to #doc yet. A room loaded from storage answers joiners from these
   * bytes (state vector from their struct ranges, step 2 from the bytes themselves) and applies
   * them on the first use of `doc`: opening a large document costs no Yjs integration and no
   * re-encoding until someone edits it (issue 6).
   */
  #stored: readonly Uint8Array[] | null = null
  /** The state vector of #stored, encoded. */
  #storedStateVector: Uint8Array | null = null
  /** Set while #stored is applied: those updates are neither broadcast nor persisted again. */
  #isMaterializing = false
  readonly #presence: Presence
  readonly #peers = new Map<Peer, PeerState>()
  readonly #disposers: Disposer[] = []
  /** Ticket of the latest update this room handed to the persister. */
  #lastTicket = 0
  /** Which connection writes as which Yjs client id (R33). */
  readonly #writers = new Map<number, Peer>()
  /** Which writer key may extend which Yjs client id, stored with the document (R33). */
  readonly #bindings: WriterBindings
  /** While a dead holder's waiting contenders are offered: the ids it held (R33, R36). */
  #released: Set<number> | null = null
  /** Holders someone contested, being checked or recently found alive (R36). */
  readonly #liveness = new Map<Peer, Liveness>()
  /** Set while waiting updates are offered; a drain asked for meanwhile runs after it. */
  #drainState: 'idle' | 'draining' | 'again' = 'idle'
  /** A drain asked for meanwhile also offers the updates waiting for ownership. */
  #drainOwners = false
  readonly #limits: RoomLimits
  readonly #onReject: RoomOptions['onReject']
  readonly #onPersisted: RoomOptions['onPersisted']
  readonly #onBroken: RoomOptions['onBroken']
  readonly #onSuperseded: RoomOptions['onSuperseded']
  readonly #onEditorsGone: RoomOptions['onEditorsGone']
  readonly #onPeersChanged: RoomOptions['onPeersChanged']
  /** Set while the room applies an update: see #applyAtomically. */
  #applying: Applying | null = null
  /** An update failed halfway; this room's memory is not trusted any more. */
  #isBroken = false
  /** Editors' updates waiting for content the document lacks (R31). */
  readonly #waiting = new WaitingUpdates()
  /** The whole document as a step 2 frame, encoded once for every joiner until it changes. */
  #fullStateFrame: Uint8Array | null = null
  /** Updates applied during this turn of the event loop, broadcast together after it. */
  readonly #broadcast = new TurnBroadcast((frame, skip) => {
    if (this.#isBroken) return
    for (const peer of this.#peers.keys()) if (peer !== skip) peer.send(frame)
  })

  constructor(
    readonly docId: string,
    stored: StoredDoc | null,
    private readonly persister: Persister,
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
    this.#onPersisted = options.onPersisted
    this.#onBroken = options.onBroken
    this.#onSuperseded = options.onSuperseded
    this.#onEditorsGone = options.onEditorsGone
    this.#onPeersChanged = options.onPeersChanged
    this.#doc = new Y.Doc()
    this.#bindings = new WriterBindings(stored?.writers)
    if (stored && stored.updates.length > 0) {
      // Reading every struct's range decodes each entry: an undecodable stored value throws here
      // and the caller fails this document closed (R10).
      this.#storedStateVector = stateVectorOf(stored.updates)
      this.#stored = stored.updates
    }
    this.#presence = new Presence(this.#doc, this.#limits.awareness, {
      broadcast: (frame) => {
        // Presence may point into content broadcast in this turn: that content goes first.
        this.#broadcast.flush()
        for (const peer of this.#peers.keys()) peer.send(frame)
      },
      supersede: (holder, next) => this.#supersede(holder, next),
      contest: (holder) => this.#contest(holder),
      reject: (peer, reason, detail) => this.#reject(peer, reason, detail),
      dropped: options.onPresenceDropped,
      publish: options.onPresence,
    })
    // Not Yjs's 'update' event: Yjs would encode every transaction again (an 8 MiB insert costs
    // tens of MiB to re-encode) when the room already holds the validated bytes it applied.
    this.#doc.on('afterTransaction', this.#onTransaction)
    this.#disposers.push(
      () => this.#doc.off('afterTransaction', this.#onTransaction),
      persister.onStatus(this.#onPersistStatus),
    )
  }

  /** The document; a room loaded from storage applies its stored updates on first use. */
  get doc(): Y.Doc {
    if (this.#stored) this.#materialize()
    return this.#doc
  }

  /**
   * Applies the stored updates, in one transaction (linear, where Y.mergeUpdates grows faster).
   * If Yjs cannot, the room is given up (its peers are told the document is unavailable) and the
   * error propagates to whoever needed the content.
   */
  #materialize(): void {
    const updates = this.#stored
    if (!updates) return
    this.#stored = null
    this.#storedStateVector = null
    const doc = this.#doc
    this.#isMaterializing = true
    try {
      doc.transact(() => {
        for (const update of updates) Y.applyUpdate(doc, update, STORE_ORIGIN)
      }, STORE_ORIGIN)
    } catch (error) {
      this.#isBroken = true
      this.#onBroken?.()
      throw error
    } finally {
      this.#isMaterializing = false
    }
  }

  /** Whether its stored updates were applied: only then can its content have changed. */
  get isMaterialized(): boolean {
    return this.#stored === null
  }

  /** An update failed halfway and this room is being given up (R31). */
  get isBroken(): boolean {
    return this.#isBroken
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

  /**
   * An update another node committed (R65): applied and sent to this node's peers, never stored
   * again; the writer bindings it made are learned (R33). `missing`: it needs content this node
   * lacks (a message it missed); `refused`: it does not fit this document. Either way the caller
   * catches up from the store, which holds whatever another node published.
   */
  applyRemote(received: Uint8Array, writers: ReadonlyArray<readonly [number, string]>): RemoteOutcome {
    if (this.#isBroken) return 'refused'
    for (const [client, key] of writers) this.#bindings.learn(client, key)
    let update = received
    let verdict = validateUpdate(this.doc, update, this.#limits.update)
    if (verdict.ok && verdict.needsTrim) {
      update = Y.diffUpdate(update, Y.encodeStateVector(this.doc))
      verdict = validateUpdate(this.doc, update, this.#limits.update)
    }
    if (!verdict.ok) return 'refused'
    if (verdict.waitsFor.size > 0) return 'missing'
    if (!this.#applyAtomically(update, REMOTE_ORIGIN, verdict.isFaithful, null)) return 'refused'
    // Editors' updates of this node may have waited for exactly this content (R31).
    this.#drainWaiting(false)
    return 'applied'
  }

  /**
   * Applies what the stored document holds and this room lacks, by its state vector (R65): what
   * other nodes committed while this node missed their messages. Stored content is trusted as a
   * load trusts it; peers receive only what changed.
   */
  catchUp(stored: readonly Uint8Array[], writers?: ReadonlyMap<number, string>): void {
    if (this.#isBroken || stored.length === 0) return
    for (const [client, key] of writers ?? []) this.#bindings.learn(client, key)
    const whole = stored.length === 1 ? (stored[0] as Uint8Array) : Y.mergeUpdates([...stored])
    const missing = Y.diffUpdate(whole, Y.encodeStateVector(this.doc))
    if (this.#applyAtomically(missing, REMOTE_ORIGIN, false, null)) this.#drainWaiting(false)
  }

  /** Entries other nodes' connections changed (R66). */
  applyRemotePresence(update: Uint8Array): void {
    if (!this.#isBroken) this.#presence.applyRemote(update)
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
    for (const peer of [...this.#peers.keys()]) {
      this.remove(peer)
      peer.close(reason)
    }
  }

  add(peer: Peer): void {
    const state: PeerState = {
      peer,
      origin: { kind: 'peer', peer },
      receivedSeq: 0,
      ackedSeq: 0,
      writtenClients: new Set(),
    }
    this.#peers.set(peer, state)
    if (peer.resumeFrom) {
      try {
        peer.send(this.#step2For(peer.resumeFrom))
      } catch {
        this.#reject(peer, CLOSE_REASONS.malformedMessage)
        return
      }
    } else {
      const stateVector = this.#storedStateVector ?? Y.encodeStateVector(this.#doc)
      peer.send(encodeMessage({ type: 'sync-step1', stateVector }))
    }
    const presence = this.#presence.snapshotFrame()
    if (presence) peer.send(presence)
    if (peer.wantsAcks && this.persister.status === 'failing') {
      peer.send(encodeMessage({ type: 'persistence', state: 'failing' }))
    }
    this.#presence.join(peer)
    this.#onPeersChanged?.()
  }

  remove(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    this.#peers.delete(peer)
    this.#liveness.delete(peer)
    this.#waiting.removePeer(peer)
    for (const client of state.writtenClients) this.#writers.delete(client)
    this.#presence.leave(peer)
    // Updates that waited for this peer's ids (R36) may go ahead now.
    this.#drainWaiting(true)
    if (isEditor(peer) && ![...this.#peers.keys()].some(isEditor)) this.#onEditorsGone?.()
    this.#onPeersChanged?.()
  }

  receive(peer: Peer, frame: Uint8Array): void {
    const state = this.#peers.get(peer)
    if (!state) return
    try {
      this.#handle(peer, state, frame)
    } catch {
      // decodeMessage throws ProtocolError; Yjs and lib0 throw plain errors on garbage. Either way
      // the input came from this peer: only this peer is closed (R11). Unless the stored document
      // itself failed to load when this input needed it: that is 4503 (R10).
      this.#reject(peer, this.#isBroken ? CLOSE_REASONS.docUnavailable : CLOSE_REASONS.malformedMessage)
    }
  }

  destroy(): void {
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.#presence.destroy()
    this.#doc.destroy()
  }

  #handle(peer: Peer, state: PeerState, frame: Uint8Array): void {
    const message = decodeMessage(frame)
    switch (message.type) {
      case 'sync-step1':
        // A state vector names each client once; megabytes of it are an attack on memory (R31).
        if (message.stateVector.byteLength > MAX_STATE_VECTOR_BYTES)
          throw new ProtocolError('state vector too large')
        peer.send(this.#step2For(message.stateVector))
        return
      case 'sync-step2':
      case 'sync-update': {
        const seq = ++state.receivedSeq
        if (peer.role === 'edit') {
          // A sync update frame holding exactly the update is what the room broadcasts if it
          // applies the update as it came: the same bytes go out, not a copy.
          const asReceived = message.type === 'sync-update' && endsWith(frame, message.update) ? frame : null
          const isLiveEdit = message.type === 'sync-update'
          if (!this.#applyFromEditor(peer, state, message.update, isLiveEdit, seq, asReceived)) return
        } else if (!isEmptyUpdate(message.update) && changesDocument(this.doc, message.update)) {
          // Never applied, persisted or broadcast; the client is told why and stays connected,
          // as y-websocket clients handle `auth-denied` without reconnecting (R20).
          peer.send(encodeMessage({ type: 'auth-denied', reason: CLOSE_REASONS.readOnly.text }))
        }
        if (peer.wantsAcks) this.#ackWhenSaved(peer, state, seq)
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

  /**
   * Validates an editor's update before it touches the document (R31), and enforces that a peer
   * writes only as itself (R33): live edits claim their client ids for this connection; nobody
   * may add structs for an id another live connection claimed. A resync (step 2) may carry others'
   * structs the server lacks (after a crash), so it claims nothing. An update that needs content
   * the document lacks, or ids whose holder may be dead (R36), waits outside the document.
   * Returns false if rejected.
   */
  #applyFromEditor(
    peer: Peer,
    state: PeerState,
    received: Uint8Array,
    isLiveEdit: boolean,
    seq: number,
    asReceived: Uint8Array | null,
  ): boolean {
    // The answer of a new client to the server's step 1 holds nothing: no need to load anything.
    if (isEmptyUpdate(received)) return true
    const admission = this.#admit(peer, received, isLiveEdit)
    if (admission.verdict === 'rejected') {
      this.#reject(peer, admission.reason, admission.detail)
      return false
    }
    if (admission.verdict === 'ok' && isLiveEdit && !this.#claim(peer, state, admission.writtenClients))
      return false
    if (admission.verdict === 'held' || admission.waitsFor.size > 0) {
      if (
        this.#waitingBytes() + received.byteLength > this.#limits.maxPendingBytes ||
        this.#waiting.count >= this.#limits.maxWaitingUpdates
      ) {
        // Updates whose dependencies never arrive would pile up in memory: cap them (R31).
        this.#reject(peer, CLOSE_REASONS.invalidUpdate, 'too many updates waiting for missing dependencies')
        return false
      }
      if (admission.verdict === 'held')
        this.#waiting.add({ peer, seq, update: received, isLiveEdit }, 'owner')
      else this.#waiting.add({ peer, seq, update: admission.update, isLiveEdit }, admission.waitsFor)
      return true
    }
    const frame = admission.update === received ? asReceived : null
    if (!this.#applyUpdate(state, admission.update, admission.isFaithful, frame)) {
      this.#reject(peer, CLOSE_REASONS.invalidUpdate, 'update failed to apply')
      return false
    }
    this.#drainWaiting(false)
    return true
  }

  /** A live edit's client ids become this peer's (R33); false (and rejected) past the limit. */
  #claim(peer: Peer, state: PeerState, writtenClients: readonly number[]): boolean {
    for (const client of writtenClients) {
      if (this.#writers.get(client) === peer) continue
      if (state.writtenClients.size >= MAX_CLIENT_IDS_PER_PEER) {
        this.#reject(peer, CLOSE_REASONS.foreignClient, 'too many client ids')
        return false
      }
      this.#writers.set(client, peer)
      state.writtenClients.add(client)
      // A client id first extended by a keyed writer is that writer's from now on; one first
      // extended by a stock writer is whoever announces it in awareness once it is gone (R33).
      this.#bindings.bindIfFree(client, peer.writerKey ?? STOCK_WRITER)
      this.#released?.delete(client)
    }
    return true
  }

  /**
   * Validation (R31) and ownership (R33, R36) of an update against the document as it is now.
   * Ids another connection holds: the same writer (writer key) takes them over with a live edit;
   * a holder that may be dead is checked while the update waits; a live holder keeps them — a
   * live edit is refused, a resync applies without those structs (their writer brings them).
   */
  #admit(peer: Peer, received: Uint8Array, isLiveEdit: boolean): Admission {
    let update = received
    let verdict = validateUpdate(this.doc, update, this.#limits.update)
    if (verdict.ok && verdict.needsTrim) {
      update = Y.diffUpdate(update, Y.encodeStateVector(this.doc))
      verdict = validateUpdate(this.doc, update, this.#limits.update)
    }
    if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    // A stock writer's id someone holds now (writes or announces) is settled by the holder checks
    // below; one nobody holds is extended only by whoever announces it (R33) — or, just after its
    // dead holder was dropped, by the connection that contested it (R36).
    const isSpokenFor = (client: number): boolean =>
      this.#writers.has(client) ||
      this.#presence.holderOf(client) !== undefined ||
      // Its stock writer is connected to another node, or moved from there to this one (R66).
      this.#presence.isHeldElsewhere(client) ||
      this.#released?.has(client) === true
    const leftOut = this.#bindings.foreignTo(peer.writerKey ?? null, verdict.writtenClients, isSpokenFor)
    if (leftOut.length > 0 && isLiveEdit) {
      const detail = `client ${leftOut[0]} belongs to another writer`
      return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
    }
    for (const client of verdict.writtenClients) {
      // Announcing an id's presence holds it too: a user who has not typed yet is protected (R33).
      const holder = this.#writers.get(client) ?? this.#presence.holderOf(client)
      if (holder === undefined || holder === peer || leftOut.includes(client)) continue
      if (isSameWriter(holder, peer)) {
        if (isLiveEdit) this.#supersede(holder, peer)
        continue
      }
      if (!this.#isKnownAlive(holder)) {
        this.#contest(holder)
        return { verdict: 'held' }
      }
      if (isLiveEdit) {
        const detail = `client ${client} belongs to another connection`
        return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
      }
      leftOut.push(client)
    }
    if (leftOut.length > 0) {
      // A resync may carry other writers' structs the server lost in a crash: those writers bring
      // them back themselves. The rest of it is applied.
      const theirs = new Map(leftOut.map((client) => [client, Number.MAX_SAFE_INTEGER]))
      update = Y.diffUpdate(update, Y.encodeStateVector(theirs))
      verdict = validateUpdate(this.doc, update, this.#limits.update)
      if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    }
    const { writtenClients, waitsFor, isFaithful } = verdict
    return { verdict: 'ok', update, writtenClients, waitsFor, isFaithful }
  }

  /**
   * Offers the waiting updates that may go ahead: those whose missing content arrived, and with
   * `ownersChanged` (a holder left or answered) those waiting for ownership. Re-entrant calls (a
   * rejection inside) run after this one.
   */
  #drainWaiting(ownersChanged: boolean): void {
    this.#drainOwners ||= ownersChanged
    if (this.#drainState !== 'idle') {
      this.#drainState = 'again'
      return
    }
    do {
      this.#drainState = 'draining'
      const owners = this.#drainOwners
      this.#drainOwners = false
      if (!this.#waiting.isEmpty) this.#waiting.drain(this.#stateOf, this.#settleWaiting, owners)
    } while ((this.#drainState as string) === 'again')
    this.#drainState = 'idle'
  }

  readonly #stateOf = (client: number): number => Y.getState(this.doc.store, client)

  /** Applies a waiting update once nothing it needs is missing; refuses it if it no longer fits. */
  readonly #settleWaiting = (entry: WaitingUpdate): WaitReason | 'done' => {
    const state = this.#peers.get(entry.peer)
    if (this.#isBroken || !state) return 'done'
    const admission = this.#admit(entry.peer, entry.update, entry.isLiveEdit)
    if (admission.verdict === 'held') return 'owner'
    if (admission.verdict === 'rejected') {
      this.#reject(entry.peer, admission.reason, `${WAITING_DETAIL}${admission.detail}`)
      return 'done'
    }
    if (entry.isLiveEdit && !this.#claim(entry.peer, state, admission.writtenClients)) return 'done'
    if (admission.waitsFor.size > 0) return admission.waitsFor
    if (!this.#applyUpdate(state, admission.update, admission.isFaithful, null)) {
      this.#reject(entry.peer, CLOSE_REASONS.invalidUpdate, `${WAITING_DETAIL}update failed to apply`)
      return 'done'
    }
    // Everything this peer sent before is now in the document: acks are cumulative (R7).
    if (entry.peer.wantsAcks) this.#ackWhenSaved(entry.peer, state, state.receivedSeq)
    return 'done'
  }

  /**
   * `next`, the same writer as `holder`, took one of its ids: `holder` is a connection its client
   * has left (a network switch leaves it half-open). Its ids and presence pass to `next`, and it is
   * closed as superseded (R36).
   */
  #supersede(holder: Peer, next: Peer): void {
    const old = this.#peers.get(holder)
    const current = this.#peers.get(next)
    if (!old || !current) return
    for (const client of old.writtenClients) {
      this.#writers.set(client, next)
      current.writtenClients.add(client)
    }
    old.writtenClients.clear()
    this.#presence.transfer(holder, next)
    this.#onSuperseded?.(holder, next)
    this.remove(holder)
    holder.close(CLOSE_REASONS.superseded)
  }

  #isKnownAlive(holder: Peer): boolean {
    const known = this.#liveness.get(holder)
    return known?.kind === 'alive' && Date.now() - known.atMs < LIVENESS_FRESH_MS
  }

  /**
   * Someone needs ids `holder` holds: ask it to prove it is there (R36). One that does not within
   * LIVENESS_TIMEOUT_MS is gone (its client reconnected on another connection) and is dropped,
   * which frees its ids; either way, the updates waiting for the answer are offered again.
   */
  #contest(holder: Peer): void {
    if (this.#liveness.get(holder)?.kind === 'checking' || this.#isKnownAlive(holder)) return
    this.#liveness.set(holder, CHECKING)
    const settle = (isAlive: boolean): void => {
      if (this.#isBroken || !this.#peers.has(holder)) return
      if (isAlive) {
        this.#liveness.set(holder, { kind: 'alive', atMs: Date.now() })
        this.#drainWaiting(true)
        return
      }
      this.#onSuperseded?.(holder, null)
      // The connection that contested is taken for the same client as the dead one (R36): its
      // waiting updates may extend the dead one's ids, which it has not announced yet.
      this.#released = new Set(this.#peers.get(holder)?.writtenClients)
      try {
        this.remove(holder)
      } finally {
        this.#released = null
      }
      holder.close(CLOSE_REASONS.unresponsive)
    }
    holder.checkAlive(LIVENESS_TIMEOUT_MS).then(settle, () => settle(false))
  }

  /** Applies a validated update for a peer and reports its durability to webhooks (R40). */
  #applyUpdate(state: PeerState, update: Uint8Array, isFaithful: boolean, frame: Uint8Array | null): boolean {
    const ticketBefore = this.#lastTicket
    if (!this.#applyAtomically(update, state.origin, isFaithful, frame)) return false
    if (this.#onPersisted && this.#lastTicket !== ticketBefore) {
      const contributors = [this.#presence.nameOf(state.peer)]
      const onPersisted = this.#onPersisted
      void this.persister.whenDurable(this.#lastTicket).then(() => onPersisted(contributors))
    }
    return true
  }

  /**
   * Applies an update so that it is broadcast and persisted only if Yjs integrates all of it. If
   * Yjs throws halfway, or keeps part of it pending (input validation missed something), nothing
   * of it leaves the room, and the room, whose memory may now hold half an update, is given up
   * and reloaded from storage by its registry: every peer reconnects and resyncs (R31).
   * Integrated whole, a faithful update (see validateUpdate) is what changed the document: it is
   * broadcast (as the frame it came in, when given) and persisted as it is, not encoded again by
   * Yjs; any other is what Yjs encodes of the change.
   */
  #applyAtomically(
    update: Uint8Array,
    origin: Origin,
    isFaithful: boolean,
    frame: Uint8Array | null,
  ): boolean {
    const doc = this.doc
    const applying: Applying = { origin, hasChanged: false, followUps: [], produced: isFaithful ? null : [] }
    const produced = (change: Uint8Array): void => void applying.produced?.push(change)
    this.#applying = applying
    if (!isFaithful) doc.on('update', produced)
    try {
      Y.applyUpdate(doc, update, origin)
      if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null)
        throw new Error('update left pending')
    } catch {
      this.#isBroken = true
      this.#onBroken?.()
      return false
    } finally {
      this.#applying = null
      if (!isFaithful) doc.off('update', produced)
    }
    if (applying.produced) {
      for (const change of applying.produced) this.#onDocUpdate(change, origin, null)
      return true
    }
    if (applying.hasChanged) this.#onDocUpdate(update, origin, frame)
    for (const followUp of applying.followUps) this.#onDocUpdate(followUp, null, null)
    return true
  }

  /**
   * Notes what a transaction changed. The one applying an update changed the document by that
   * update; any other (Yjs's own clean-up of redundant formatting marks after it, a change made
   * outside #applyAtomically) is encoded from the transaction and goes out after it.
   */
  readonly #onTransaction = (transaction: Y.Transaction): void => {
    if (this.#isMaterializing || !hasChanges(transaction)) return
    const applying = this.#applying
    // Yjs encodes every transaction of an update that is not integrated as it is.
    if (applying?.produced) return
    if (applying && !applying.hasChanged && transaction.origin === applying.origin) {
      applying.hasChanged = true
      return
    }
    const update = encodeTransaction(this.#doc, transaction)
    if (applying) applying.followUps.push(update)
    else this.#onDocUpdate(update, transaction.origin, null)
  }

  /**
   * The step 2 answering a state vector. A new client (empty state vector) gets the cached frame
   * of the whole document: joining a large document costs no encoding while it is unchanged.
   */
  #step2For(stateVector: Uint8Array): Uint8Array {
    if (stateVector.byteLength === 1 && stateVector[0] === 0) {
      this.#fullStateFrame ??= encodeMessage({ type: 'sync-step2', update: this.fullState() })
      return this.#fullStateFrame
    }
    return encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, stateVector) })
  }

  /** The whole document as one update: from storage as it is while nothing is applied yet. */
  fullState(): Uint8Array {
    const stored = this.#stored
    if (!stored) return Y.encodeStateAsUpdate(this.#doc)
    return stored.length === 1 ? (stored[0] as Uint8Array) : Y.mergeUpdates([...stored])
  }

  /** Bytes of updates waiting for missing dependencies: the room's, and any Yjs kept itself. */
  #waitingBytes(): number {
    const { pendingStructs, pendingDs } = this.doc.store
    return this.#waiting.bytes + (pendingStructs?.update.byteLength ?? 0) + (pendingDs?.byteLength ?? 0)
  }

  #ackWhenSaved(peer: Peer, state: PeerState, seq: number): void {
    // Content waiting for its dependencies is not in the document, so not saved: no ack yet. The
    // message that fills the gap is acked once durable, and acks are cumulative (R7).
    if (this.#waiting.holdsFrom(peer)) return
    const send = (): void => {
      // Acks are cumulative and must never go backwards (R7).
      if (seq <= state.ackedSeq || !this.#peers.has(peer)) return
      state.ackedSeq = seq
      peer.send(encodeMessage({ type: 'saved', seq }))
    }
    if (this.persister.isDurable(this.#lastTicket)) send()
    else void this.persister.whenDurable(this.#lastTicket).then(send)
  }

  #reject(peer: Peer, reason: CloseReason, detail?: string): void {
    this.#onReject?.(peer, reason, detail)
    this.remove(peer)
    peer.close(reason)
  }

  #onDocUpdate(update: Uint8Array, origin: unknown, frame: Uint8Array | null): void {
    this.#fullStateFrame = null
    if (this.#isBroken) return
    this.#broadcast.add(update, isOrigin(origin) && origin.kind === 'peer' ? origin.peer : null, frame)
    // What came from the store or from another node is stored already (R65).
    if (!(isOrigin(origin) && (origin.kind === 'store' || origin.kind === 'remote'))) {
      this.#lastTicket = this.persister.enqueue(this.docId, update, this.#bindings.takeUnsaved())
    }
  }

  readonly #onPersistStatus = (status: PersistStatus): void => {
    const frame = encodeMessage({ type: 'persistence', state: status })
    for (const peer of this.#peers.keys()) if (peer.wantsAcks) peer.send(frame)
  }
}

/** Whether a transaction added structs or deleted anything: what Yjs would emit an update for. */
function hasChanges(transaction: Y.Transaction): boolean {
  return transaction.deleteSet.clients.size > 0 || addsStructs(transaction)
}

function addsStructs(transaction: Y.Transaction): boolean {
  for (const [client, clock] of transaction.afterState)
    if (transaction.beforeState.get(client) !== clock) return true
  return false
}

/**
 * What a transaction changed, as an update. Deletions only (Yjs's formatting clean-up): exactly
 * its delete set (sorted and merged by Yjs before 'afterTransaction'), in the v1 layout — no
 * structs, then per client its ranges. Otherwise the structs it added with the document's whole
 * delete set: more than it deleted, never less.
 */
function encodeTransaction(doc: Y.Doc, transaction: Y.Transaction): Uint8Array {
  if (addsStructs(transaction))
    return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(transaction.beforeState))
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  const { clients } = transaction.deleteSet
  encoding.writeVarUint(encoder, clients.size)
  for (const [client, ranges] of clients) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const { clock, len } of ranges) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, len)
    }
  }
  return encoding.toUint8Array(encoder)
}

/** An update being applied by the room, and what Yjs changed after it on its own. */
interface Applying {
  readonly origin: Origin
  hasChanged: boolean
  readonly followUps: Uint8Array[]
  /** For an update Yjs does not integrate as it is: what Yjs encoded of each transaction. */
  readonly produced: Uint8Array[] | null
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
