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
import { DEFAULT_AWARENESS_LIMITS, validateAwareness, type AwarenessLimits } from './awarenessValidation.ts'
import { changesDocument } from './readOnly.ts'
import { TokenBucket } from './TokenBucket.ts'
import {
  DEFAULT_UPDATE_LIMITS,
  isEmptyUpdate,
  validateUpdate,
  type UpdateLimits,
} from './updateValidation.ts'
import { stateVectorOf } from './storedState.ts'
import { TurnBroadcast } from './TurnBroadcast.ts'
import { WaitingUpdates, type WaitingUpdate } from './WaitingUpdates.ts'
import { WriterBindings } from './WriterBindings.ts'
import { SERVER_ORIGIN, STORE_ORIGIN, isOrigin, type Disposer, type Origin, type Peer } from './types.ts'

/** Viewer presence is renewed well inside y-protocols' 30 s awareness timeout. */
const VIEWER_PRESENCE_RENEW_MS = 15_000
const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024
/** Far more than the state vector of any real document (~40k writers). */
const MAX_STATE_VECTOR_BYTES = 256 * 1024
/** Yjs client ids one connection may write or announce presence as (R32, R33). */
const MAX_CLIENT_IDS_PER_PEER = 16
/** Awareness messages per connection: bursts of cursor moves pass, floods are cut off (R32). */
const AWARENESS_BURST = 200
const AWARENESS_PER_SECOND = 60
/** Starts the detail of a rejection for an update that was waiting, not the one just received. */
export const WAITING_DETAIL = 'waiting update: '

export interface RoomLimits {
  readonly update: UpdateLimits
  readonly awareness: AwarenessLimits
  /** Bytes of updates waiting for missing dependencies a document may hold (R31). */
  readonly maxPendingBytes: number
}

export interface RoomOptions {
  readonly limits?: Partial<RoomLimits>
  /** Told about every rejected peer (for logs and metrics); never changes the outcome. */
  readonly onReject?: (peer: Peer, reason: CloseReason, detail: string | undefined) => void
  /** Told when edits are durable, with who made them (webhooks; SPEC R40). */
  readonly onPersisted?: (contributors: readonly string[]) => void
  /** The room's memory can no longer be trusted: its owner must unload it (R31). */
  readonly onBroken?: () => void
}

interface PeerState {
  readonly origin: Origin
  /** Awareness client ids this peer announced (R32); removed for everyone when it leaves (R4). */
  readonly clientIds: Set<number>
  /** step2/update messages received on this connection; the saved ack counts the same way (R7). */
  receivedSeq: number
  ackedSeq: number
  /** The awareness entry the room publishes for a viewer (R21); null for editors. */
  viewer: { readonly clientId: number; clock: number } | null
  /** Yjs client ids this peer's live edits claimed (R33). */
  readonly writtenClients: Set<number>
  readonly awarenessBudget: TokenBucket
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

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
  readonly awareness: awarenessProtocol.Awareness
  readonly #peers = new Map<Peer, PeerState>()
  readonly #disposers: Disposer[] = []
  /** Ticket of the latest update this room handed to the persister. */
  #lastTicket = 0
  #viewerRenewal: NodeJS.Timeout | null = null
  /** Which connection writes as which Yjs client id (R33). */
  readonly #writers = new Map<number, Peer>()
  /** Which writer key may extend which Yjs client id, stored with the document (R33). */
  readonly #bindings: WriterBindings
  /** Which connection speaks for which awareness client id; null: the room itself (viewers). */
  readonly #presenceOwners = new Map<number, Peer | null>()
  readonly #limits: RoomLimits
  readonly #onReject: RoomOptions['onReject']
  readonly #onPersisted: RoomOptions['onPersisted']
  readonly #onBroken: RoomOptions['onBroken']
  /** Set while an update is applied: what it produced, held until it applied completely. */
  #capture: Array<[Uint8Array, unknown]> | null = null
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
      ...options.limits,
    }
    this.#onReject = options.onReject
    this.#onPersisted = options.onPersisted
    this.#onBroken = options.onBroken
    this.#doc = new Y.Doc()
    this.#bindings = new WriterBindings(stored?.writers)
    if (stored && stored.updates.length > 0) {
      // Reading every struct's range decodes each entry: an undecodable stored value throws here
      // and the caller fails this document closed (R10).
      this.#storedStateVector = stateVectorOf(stored.updates)
      this.#stored = stored.updates
    }
    this.awareness = new awarenessProtocol.Awareness(this.#doc)
    this.awareness.setLocalState(null)
    this.#doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
    this.#disposers.push(
      () => this.#doc.off('update', this.#onDocUpdate),
      () => this.awareness.off('update', this.#onAwarenessUpdate),
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

  /** Closes every peer with `reason` (links were reset, document deleted): not a rejection. */
  closeAll(reason: CloseReason): void {
    for (const peer of [...this.#peers.keys()]) {
      this.remove(peer)
      peer.close(reason)
    }
  }

  add(peer: Peer): void {
    const state: PeerState = {
      origin: { kind: 'peer', peer },
      clientIds: new Set(),
      receivedSeq: 0,
      ackedSeq: 0,
      viewer: null,
      writtenClients: new Set(),
      awarenessBudget: new TokenBucket(AWARENESS_BURST, AWARENESS_PER_SECOND),
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
    if (peer.role === 'view' && !peer.isProbe) this.#addViewerPresence(state, peer.viewerName)
  }

  remove(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    this.#peers.delete(peer)
    this.#waiting.removePeer(peer)
    for (const client of state.writtenClients) this.#writers.delete(client)
    for (const client of state.clientIds) this.#presenceOwners.delete(client)
    if (state.clientIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...state.clientIds], SERVER_ORIGIN)
    }
    if (state.viewer) {
      state.viewer.clock += 1
      this.#publishViewers([{ clientId: state.viewer.clientId, clock: state.viewer.clock, state: null }])
      this.#presenceOwners.delete(state.viewer.clientId)
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
      // the input came from this peer: only this peer is closed (R11). Unless the stored document
      // itself failed to load when this input needed it: that is 4503 (R10).
      this.#reject(peer, this.#isBroken ? CLOSE_REASONS.docUnavailable : CLOSE_REASONS.malformedMessage)
    }
  }

  destroy(): void {
    if (this.#viewerRenewal) clearInterval(this.#viewerRenewal)
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.awareness.destroy()
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
          if (!this.#applyFromEditor(peer, state, message.update, message.type === 'sync-update', seq)) return
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
        if (peer.role === 'edit') this.#applyAwareness(peer, state, message.update)
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
   * may add structs for an id another connected peer claimed. A resync (step 2) may carry others'
   * structs the server lacks (after a crash), so it claims nothing. An update that needs content
   * the document lacks waits, outside the document, until it arrives. Returns false if rejected.
   */
  #applyFromEditor(
    peer: Peer,
    state: PeerState,
    received: Uint8Array,
    isLiveEdit: boolean,
    seq: number,
  ): boolean {
    // The answer of a new client to the server's step 1 holds nothing: no need to load anything.
    if (isEmptyUpdate(received)) return true
    const checked = this.#check(peer, received, isLiveEdit)
    if (checked.verdict !== 'ok') {
      this.#reject(peer, checked.reason, checked.detail)
      return false
    }
    const { update, writtenClients, mayWait } = checked
    if (isLiveEdit) {
      for (const client of writtenClients) {
        if (this.#writers.get(client) === peer) continue
        if (state.writtenClients.size >= MAX_CLIENT_IDS_PER_PEER) {
          this.#reject(peer, CLOSE_REASONS.foreignClient, 'too many client ids')
          return false
        }
        this.#writers.set(client, peer)
        state.writtenClients.add(client)
        // A client id first extended by a keyed writer is that writer's from now on (R33).
        if (peer.writerKey) this.#bindings.bindIfFree(client, peer.writerKey)
      }
    }
    if (mayWait) {
      if (this.#waitingBytes() + update.byteLength > this.#limits.maxPendingBytes) {
        // Updates whose dependencies never arrive would pile up in memory: cap them (R31).
        this.#reject(peer, CLOSE_REASONS.invalidUpdate, 'too many updates waiting for missing dependencies')
        return false
      }
      this.#waiting.add({ peer, seq, update, isLiveEdit })
      return true
    }
    if (!this.#applyUpdate(state, update)) {
      this.#reject(peer, CLOSE_REASONS.invalidUpdate, 'update failed to apply')
      return false
    }
    if (!this.#waiting.isEmpty) this.#waiting.drain(this.#settleWaiting)
    return true
  }

  /** Validation (R31) and ownership (R33) of an update against the document as it is now. */
  #check(
    peer: Peer,
    received: Uint8Array,
    isLiveEdit: boolean,
  ):
    | { verdict: 'ok'; update: Uint8Array; writtenClients: readonly number[]; mayWait: boolean }
    | { verdict: 'rejected'; reason: CloseReason; detail: string } {
    let update = received
    let verdict = validateUpdate(this.doc, update, this.#limits.update)
    if (verdict.ok && verdict.needsTrim) {
      update = Y.diffUpdate(update, Y.encodeStateVector(this.doc))
      verdict = validateUpdate(this.doc, update, this.#limits.update)
    }
    if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    const foreign = this.#bindings.foreignTo(peer.writerKey ?? null, verdict.writtenClients)
    if (foreign.length > 0) {
      if (isLiveEdit) {
        const detail = `client ${foreign[0]} belongs to another writer`
        return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
      }
      // A resync may carry other writers' structs the server lost in a crash: those writers bring
      // them back themselves. The rest of it is applied.
      const theirs = new Map(foreign.map((client) => [client, Number.MAX_SAFE_INTEGER]))
      update = Y.diffUpdate(update, Y.encodeStateVector(theirs))
      verdict = validateUpdate(this.doc, update, this.#limits.update)
      if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    }
    for (const client of verdict.writtenClients) {
      const owner = this.#writers.get(client)
      if (owner !== undefined && owner !== peer) {
        const detail = `client ${client} belongs to another connection`
        return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
      }
    }
    return { verdict: 'ok', update, writtenClients: verdict.writtenClients, mayWait: verdict.mayWait }
  }

  /** Applies a waiting update once nothing it needs is missing; refuses it if it no longer fits. */
  readonly #settleWaiting = (entry: WaitingUpdate): 'keep' | 'done' => {
    const state = this.#peers.get(entry.peer)
    if (this.#isBroken || !state) return 'done'
    const checked = this.#check(entry.peer, entry.update, entry.isLiveEdit)
    if (checked.verdict !== 'ok') {
      this.#reject(entry.peer, checked.reason, `${WAITING_DETAIL}${checked.detail}`)
      return 'done'
    }
    if (checked.mayWait) return 'keep'
    if (!this.#applyUpdate(state, checked.update)) {
      this.#reject(entry.peer, CLOSE_REASONS.invalidUpdate, `${WAITING_DETAIL}update failed to apply`)
      return 'done'
    }
    // Everything this peer sent before is now in the document: acks are cumulative (R7).
    if (entry.peer.wantsAcks) this.#ackWhenSaved(entry.peer, state, state.receivedSeq)
    return 'done'
  }

  /** Applies a validated update for a peer and reports its durability to webhooks (R40). */
  #applyUpdate(state: PeerState, update: Uint8Array): boolean {
    const ticketBefore = this.#lastTicket
    if (!this.#applyAtomically(update, state.origin)) return false
    if (this.#onPersisted && this.#lastTicket !== ticketBefore) {
      const contributors = [this.#nameOf(state)]
      const onPersisted = this.#onPersisted
      void this.persister.whenDurable(this.#lastTicket).then(() => onPersisted(contributors))
    }
    return true
  }

  /**
   * Applies an update so that it is broadcast and persisted only if Yjs integrates all of it. If
   * Yjs throws halfway (input validation missed something), nothing of it leaves the room, and the
   * room, whose memory may now hold half an update, is given up and reloaded from storage by its
   * registry: every peer reconnects and resyncs (R31).
   */
  #applyAtomically(update: Uint8Array, origin: Origin): boolean {
    const produced: Array<[Uint8Array, unknown]> = []
    this.#capture = produced
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch {
      this.#capture = null
      this.#isBroken = true
      this.#onBroken?.()
      return false
    }
    this.#capture = null
    for (const [produce, from] of produced) this.#onDocUpdate(produce, from)
    return true
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

  /** The display name a peer announced in its awareness state, '' if none. */
  #nameOf(state: PeerState): string {
    for (const id of state.clientIds) {
      const name = (this.awareness.getStates().get(id) as { user?: { name?: unknown } } | undefined)?.user
        ?.name
      if (typeof name === 'string') return name
    }
    return ''
  }

  /** Presence only for the peer's own client ids, bounded in size, depth, clock and rate (R32). */
  #applyAwareness(peer: Peer, state: PeerState, update: Uint8Array): void {
    if (!state.awarenessBudget.take(Date.now())) {
      this.#reject(peer, CLOSE_REASONS.tooManyRequests, 'awareness flood')
      return
    }
    const verdict = validateAwareness(
      update,
      (id) => this.awareness.meta.get(id)?.clock,
      this.#limits.awareness,
    )
    if (!verdict.ok) {
      this.#reject(peer, CLOSE_REASONS.invalidAwareness, verdict.detail)
      return
    }
    for (const entry of verdict.entries) {
      const owner = this.#presenceOwners.get(entry.clientId)
      if (owner !== undefined && owner !== peer) {
        this.#reject(
          peer,
          CLOSE_REASONS.invalidAwareness,
          `client ${entry.clientId} belongs to another connection`,
        )
        return
      }
      if (owner === undefined && !entry.isRemoval) {
        if (state.clientIds.size >= MAX_CLIENT_IDS_PER_PEER) {
          this.#reject(peer, CLOSE_REASONS.invalidAwareness, 'too many client ids')
          return
        }
        this.#presenceOwners.set(entry.clientId, peer)
        state.clientIds.add(entry.clientId)
      }
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, state.origin)
  }

  #addViewerPresence(state: PeerState, name: string): void {
    state.viewer = { clientId: randomClientId(this.awareness), clock: 1 }
    this.#presenceOwners.set(state.viewer.clientId, null)
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

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.#isMaterializing) return
    this.#fullStateFrame = null
    if (this.#capture) {
      this.#capture.push([update, origin])
      return
    }
    if (this.#isBroken) return
    this.#broadcast.add(update, isOrigin(origin) && origin.kind === 'peer' ? origin.peer : null)
    if (!(isOrigin(origin) && origin.kind === 'store')) {
      this.#lastTicket = this.persister.enqueue(this.docId, update, this.#bindings.takeUnsaved())
    }
  }

  readonly #onAwarenessUpdate = ({ added, updated, removed }: AwarenessChange): void => {
    // Presence may point into content broadcast in this turn: that content goes first.
    this.#broadcast.flush()
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
