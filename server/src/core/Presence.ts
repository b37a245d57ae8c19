import {
  CLOSE_REASONS,
  encodeAwarenessEntries,
  encodeMessage,
  type AwarenessEntry,
  type CloseReason,
} from '@tandem/shared'
import * as awarenessProtocol from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { checkAwarenessState, readAwarenessEntries, type AwarenessLimits } from './awarenessValidation.ts'
import { TokenBucket } from './TokenBucket.ts'
import { REMOTE_ORIGIN, SERVER_ORIGIN, type Peer } from './types.ts'

/** Viewer presence is renewed well inside y-protocols' 30 s awareness timeout. */
const VIEWER_PRESENCE_RENEW_MS = 15_000
/** Awareness client ids one connection may announce (R32). */
export const MAX_CLIENT_IDS_PER_PEER = 16
/** Awareness changes per connection: bursts of caret moves pass at once, more are coalesced (R32). */
const AWARENESS_BURST = 200
const AWARENESS_PER_SECOND = 60

/** Why an entry a peer sent was not applied: a copy of what the room holds, or someone else's id. */
export type PresenceDrop = 'echo' | 'foreign'

/** What presence needs from its room. */
export interface PresenceHooks {
  /** An awareness frame for every peer of the room. */
  broadcast(frame: Uint8Array): void
  /** `next`, the same writer as `holder` (writer key), announced one of its ids: `holder` is stale. */
  supersede(holder: Peer, next: Peer): void
  /** Someone spoke for an id `holder` holds: find out whether `holder` is still there (R36). */
  contest(holder: Peer): void
  reject(peer: Peer, reason: CloseReason, detail: string): void
  /** An entry was dropped (metrics, debug logs); never changes the outcome. */
  dropped?(peer: Peer, kind: PresenceDrop, clientId: number): void
  /** Entries this node's connections changed, for the other nodes (R66). */
  publish?(update: Uint8Array): void
}

interface PeerPresence {
  /** Awareness client ids this peer holds (R32); removed for everyone when it leaves (R4). */
  readonly clientIds: Set<number>
  readonly budget: TokenBucket
  /** The latest message over the rate budget, applied when the budget allows (R32). */
  deferred: Uint8Array | null
  deferTimer: NodeJS.Timeout | null
  /** The awareness entry the room publishes for a viewer (R21); null for editors. */
  viewer: { readonly clientId: number; clock: number } | null
}

/**
 * A room's awareness (SPEC R4, R21, R32, R36): who holds which awareness client id, what each
 * connection may change, and the entries the room publishes for viewers. Stock y-websocket
 * clients re-broadcast every state they receive, so a message holding others' states is normal
 * use: such entries are dropped, never a reason to close anyone.
 */
export class Presence {
  readonly awareness: awarenessProtocol.Awareness
  /** Which connection holds which awareness client id; null: the room itself (a viewer's entry). */
  readonly #holders = new Map<number, Peer | null>()
  readonly #peers = new Map<Peer, PeerPresence>()
  /** Awareness client ids held by connections of other nodes (R66). */
  readonly #remote = new Set<number>()
  #viewerRenewal: NodeJS.Timeout | null = null

  constructor(
    doc: Y.Doc,
    private readonly limits: AwarenessLimits,
    private readonly hooks: PresenceHooks,
  ) {
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.#onUpdate)
  }

  /** Registers a peer; a viewer (not a probe) gets the entry the room publishes for it (R21). */
  join(peer: Peer): void {
    const state: PeerPresence = {
      clientIds: new Set(),
      budget: new TokenBucket(AWARENESS_BURST, AWARENESS_PER_SECOND),
      deferred: null,
      deferTimer: null,
      viewer: null,
    }
    this.#peers.set(peer, state)
    if (peer.role === 'view' && !peer.isProbe) this.#addViewer(state, peer.viewerName)
  }

  /** Removes the peer and, for everyone, every state it held (R4). */
  leave(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    this.#peers.delete(peer)
    if (state.deferTimer) clearTimeout(state.deferTimer)
    const ids = [...state.clientIds]
    for (const id of ids) this.#holders.delete(id)
    if (ids.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, ids, SERVER_ORIGIN)
    if (state.viewer) {
      state.viewer.clock += 1
      this.#publish([{ clientId: state.viewer.clientId, clock: state.viewer.clock, state: null }])
      this.#holders.delete(state.viewer.clientId)
      if (this.#localViewerCount === 0 && this.#viewerRenewal) {
        clearInterval(this.#viewerRenewal)
        this.#viewerRenewal = null
      }
    }
  }

  /** The connection that announced this awareness client id, if one holds it (not a viewer's entry). */
  holderOf(clientId: number): Peer | undefined {
    return this.#holders.get(clientId) ?? undefined
  }

  /** Hands every id `from` holds to `to`, states untouched: the same writer on a new connection. */
  transfer(from: Peer, to: Peer): void {
    const source = this.#peers.get(from)
    const target = this.#peers.get(to)
    if (!source || !target) return
    for (const id of source.clientIds) {
      this.#holders.set(id, to)
      target.clientIds.add(id)
    }
    source.clientIds.clear()
  }

  /** Whether a connection of another node holds the id (R66). */
  isHeldElsewhere(clientId: number): boolean {
    return this.#remote.has(clientId)
  }

  /**
   * Entries another node published (R66): applied unless a connection of this node holds the id
   * (this node's own view of its clients wins); then sent to this node's peers, never back.
   */
  applyRemote(update: Uint8Array): void {
    const decoded = readAwarenessEntries(update, this.limits)
    if (!decoded.ok) return
    const kept: AwarenessEntry[] = []
    for (const entry of decoded.entries) {
      if (this.#holders.has(entry.clientId)) continue
      let state: unknown
      try {
        state = JSON.parse(entry.json)
      } catch {
        continue
      }
      if (state === null) this.#remote.delete(entry.clientId)
      else this.#remote.add(entry.clientId)
      kept.push({ clientId: entry.clientId, clock: entry.clock, state })
    }
    if (kept.length > 0)
      awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(kept), REMOTE_ORIGIN)
  }

  /** The entries this node's connections hold, as an awareness update; null when none (R66). */
  localUpdate(): Uint8Array | null {
    const ids = [...this.#holders.keys()].filter((id) => this.awareness.states.has(id))
    return ids.length > 0 ? awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids) : null
  }

  /** Every state, as the frame a joining client gets; null when nobody is present. */
  snapshotFrame(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    if (ids.length === 0) return null
    return encodeMessage({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids),
    })
  }

  /** Viewers present, this node's and (in a cluster) other nodes' (R27, R66). */
  get viewerCount(): number {
    let count = 0
    for (const state of this.awareness.getStates().values())
      if ((state as { viewer?: unknown }).viewer) count += 1
    return count
  }

  /** This node's viewer connections: its renewal timer runs while there are any. */
  get #localViewerCount(): number {
    let count = 0
    for (const state of this.#peers.values()) if (state.viewer) count += 1
    return count
  }

  /** Who is here, by the names in their awareness states: what the dashboard shows (R27). */
  summary(): { editors: string[]; viewers: string[] } {
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

  /** This node's connections only (R66): the names of the entries they hold. */
  localSummary(): { editors: string[]; viewers: string[] } {
    const editors: string[] = []
    const viewers: string[] = []
    for (const [peer, state] of this.#peers) {
      if (state.viewer) viewers.push(peer.viewerName)
      else {
        const name = this.nameOf(peer)
        if (name) editors.push(name)
      }
    }
    return { editors, viewers }
  }

  /** The display name a peer announced in its awareness state, '' if none. */
  nameOf(peer: Peer): string {
    for (const id of this.#peers.get(peer)?.clientIds ?? []) {
      const name = (this.awareness.getStates().get(id) as { user?: { name?: unknown } } | undefined)?.user
        ?.name
      if (typeof name === 'string') return name
    }
    return ''
  }

  /**
   * An awareness message from `peer` (R32, R36). Entries for its own ids are checked and applied;
   * an entry for an id nobody holds claims it; an entry for an id another connection holds is
   * dropped — an echo if its clock is not newer than the room's, else foreign — unless the
   * holder is the same writer (writer key), which then hands over. Viewers never set presence.
   */
  receive(peer: Peer, update: Uint8Array): void {
    const state = this.#peers.get(peer)
    if (!state || peer.role === 'view') return
    const decoded = readAwarenessEntries(update, this.limits)
    if (!decoded.ok) return this.hooks.reject(peer, CLOSE_REASONS.invalidAwareness, decoded.detail)
    const accepted: AwarenessEntry[] = []
    for (const entry of decoded.entries) {
      const id = entry.clientId
      const heldClock = this.awareness.meta.get(id)?.clock ?? 0
      let holder = this.#holders.get(id)
      if (holder === undefined && this.#remote.has(id)) {
        // Held on another node: a stock client's echo carries the clock this node has; a newer
        // clock is that client itself, moved to this node (R66).
        if (entry.clock <= heldClock) {
          this.hooks.dropped?.(peer, 'echo', id)
          continue
        }
        this.#remote.delete(id)
      }
      if (holder && holder !== peer && isSameWriter(holder, peer) && entry.clock >= heldClock) {
        this.hooks.supersede(holder, peer)
        holder = this.#holders.get(id)
      }
      if (holder !== undefined && holder !== peer) {
        this.hooks.dropped?.(peer, entry.clock <= heldClock ? 'echo' : 'foreign', id)
        // A stock client that reconnects before the server noticed its old connection died sends
        // exactly this: find out whether that old connection is still there (R36).
        if (holder !== null) this.hooks.contest(holder)
        continue
      }
      let clock = entry.clock
      if (holder === undefined) {
        // Nothing to remove for an id nobody holds: an echo of someone's departure.
        if (entry.json === 'null') continue
        if (
          clock < heldClock ||
          (clock === heldClock && (heldClock === 0 || this.awareness.states.has(id)))
        ) {
          this.hooks.dropped?.(peer, 'echo', id)
          continue
        }
        // The state of a client whose stale connection the room dropped comes back with the clock
        // it had; y-protocols ignores an equal clock, so the room publishes it one higher.
        if (clock === heldClock) clock += 1
        if (state.clientIds.size >= MAX_CLIENT_IDS_PER_PEER)
          return this.hooks.reject(peer, CLOSE_REASONS.invalidAwareness, 'too many client ids')
      }
      const checked = checkAwarenessState(entry, heldClock, this.limits)
      if (!checked.ok) return this.hooks.reject(peer, CLOSE_REASONS.invalidAwareness, checked.detail)
      if (holder === undefined) {
        this.#holders.set(id, peer)
        state.clientIds.add(id)
      }
      accepted.push({ clientId: id, clock, state: checked.state })
    }
    if (accepted.length === 0) return
    // Over the rate budget the latest message waits for the budget instead of closing the client:
    // a fast caret is normal use; only the newest state matters (R32).
    if (!state.budget.take(Date.now())) {
      state.deferred = update
      state.deferTimer ??= setTimeout(() => this.#flushDeferred(peer), Math.ceil(1000 / AWARENESS_PER_SECOND))
      return
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(accepted), peer)
  }

  destroy(): void {
    if (this.#viewerRenewal) clearInterval(this.#viewerRenewal)
    for (const state of this.#peers.values()) if (state.deferTimer) clearTimeout(state.deferTimer)
    this.awareness.off('update', this.#onUpdate)
    this.awareness.destroy()
  }

  #flushDeferred(peer: Peer): void {
    const state = this.#peers.get(peer)
    if (!state) return
    state.deferTimer = null
    const deferred = state.deferred
    state.deferred = null
    if (deferred) this.receive(peer, deferred)
  }

  #addViewer(state: PeerPresence, name: string): void {
    state.viewer = { clientId: this.#freeClientId(), clock: 1 }
    this.#holders.set(state.viewer.clientId, null)
    this.#publish([{ clientId: state.viewer.clientId, clock: 1, state: { viewer: { name } } }])
    this.#viewerRenewal ??= setInterval(() => this.#renewViewers(), VIEWER_PRESENCE_RENEW_MS)
  }

  #renewViewers(): void {
    const entries: AwarenessEntry[] = []
    for (const [peer, state] of this.#peers) {
      if (!state.viewer) continue
      state.viewer.clock += 1
      entries.push({
        clientId: state.viewer.clientId,
        clock: state.viewer.clock,
        state: { viewer: { name: peer.viewerName } },
      })
    }
    if (entries.length > 0) this.#publish(entries)
  }

  #publish(entries: readonly AwarenessEntry[]): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(entries), SERVER_ORIGIN)
  }

  /** A 32-bit awareness client id not in use in this room. */
  #freeClientId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0xffffffff)
      if (!this.awareness.getStates().has(id) && !this.awareness.meta.has(id)) return id
    }
  }

  readonly #onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    // A removed state is nobody's any more (its client said goodbye, or it timed out): whoever
    // announces that id next claims it.
    for (const id of removed) {
      this.#remote.delete(id)
      const holder = this.#holders.get(id)
      if (!holder) continue
      this.#holders.delete(id)
      this.#peers.get(holder)?.clientIds.delete(id)
    }
    const changed = added.concat(updated, removed)
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)
    this.hooks.broadcast(encodeMessage({ type: 'awareness', update }))
    // Other nodes hear of this node's changes only: not of theirs, and not of time-outs, which
    // every node applies by itself (R66).
    if (origin !== REMOTE_ORIGIN && origin !== 'timeout') this.hooks.publish?.(update)
  }
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

/** Two connections of one writer: the same writer key (R33), which only that writer knows. */
export function isSameWriter(a: Peer, b: Peer): boolean {
  return a.writerKey != null && a.writerKey === b.writerKey
}
