import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import { MAX_CLIENT_IDS_PER_PEER, isSameWriter, type Presence } from './Presence.ts'
import { STOCK_WRITER, type WriterBindings } from './WriterBindings.ts'
import type { Peer } from './types.ts'

/**
 * How long a contested holder has to answer a liveness check (R36): a WebSocket pong, a new poll.
 * Generous, so a live client behind seconds of latency is not taken for dead.
 */
const LIVENESS_TIMEOUT_MS = 8_000
/** How long a holder that answered counts as live before it is checked again. */
const LIVENESS_FRESH_MS = 10_000

/** What the room knows of a holder someone contested (R36). */
type Liveness = { readonly kind: 'checking' } | { readonly kind: 'alive'; readonly atMs: number }
const CHECKING: Liveness = Object.freeze({ kind: 'checking' })

/** How the client ids an update writes stand against the connections that hold them (R33, R36). */
export type Ownership =
  | {
      readonly verdict: 'ok'
      /** Ids a resync writes that live others hold: it applies without them (their writer brings them). */
      readonly leftOut: readonly number[]
    }
  | { readonly verdict: 'rejected'; readonly reason: CloseReason; readonly detail: string }
  /** It writes ids a connection holds that may be dead: it waits until that is known. */
  | { readonly verdict: 'held' }

/** What ownership needs from its room. */
export interface OwnershipHooks {
  has(peer: Peer): boolean
  /** The room gave itself up (R31): an answer that comes after changes nothing. */
  isBroken(): boolean
  /** Takes `peer` out of the room (its ids, presence and waiting updates); the caller closes it. */
  remove(peer: Peer): void
  reject(peer: Peer, reason: CloseReason, detail: string): void
  /** A contested holder answered: the updates waiting for ownership may go ahead (R36). */
  answered(): void
  /** `peer` was replaced by `next` (same writer), or dropped as unresponsive (`next` null). */
  superseded?: (peer: Peer, next: Peer | null) => void
}

/** The presence a room's ownership consults: who announced which awareness client id (R33, R66). */
type Announcements = Pick<Presence, 'holderOf' | 'isHeldElsewhere' | 'transfer'>

/**
 * Which connection writes as which Yjs client id (R33), and what becomes of a holder someone else
 * needs (R36): the same writer takes its ids over, a holder that may be dead is asked to prove it
 * is there and dropped if it does not, a live one keeps them.
 */
export class WriterOwnership {
  readonly #writers = new Map<number, Peer>()
  /** Per connection, the Yjs client ids its live edits claimed. */
  readonly #held = new Map<Peer, Set<number>>()
  /** Holders someone contested, being checked or recently found alive (R36). */
  readonly #liveness = new Map<Peer, Liveness>()
  /** While a dead holder's waiting contenders are offered: the ids it held (R33, R36). */
  #released: Set<number> | null = null

  constructor(
    private readonly presence: Announcements,
    private readonly bindings: Pick<WriterBindings, 'foreignTo' | 'bindIfFree'>,
    private readonly hooks: OwnershipHooks,
  ) {}

  /**
   * Ownership (R33, R36) of the ids a validated update writes. Ids another connection holds: the
   * same writer (writer key) takes them over with a live edit; a holder that may be dead is
   * checked while the update waits; a live holder keeps them — a live edit is refused, a resync
   * applies without those structs (their writer brings them).
   */
  check(peer: Peer, writtenClients: readonly number[], isLiveEdit: boolean): Ownership {
    // A stock writer's id someone holds now (writes or announces) is settled by the holder checks
    // below; one nobody holds is extended only by whoever announces it (R33) — or, just after its
    // dead holder was dropped, by the connection that contested it (R36).
    const isSpokenFor = (client: number): boolean =>
      this.#writers.has(client) ||
      this.presence.holderOf(client) !== undefined ||
      // Its stock writer is connected to another node, or moved from there to this one (R66).
      this.presence.isHeldElsewhere(client) ||
      this.#released?.has(client) === true
    const leftOut = this.bindings.foreignTo(peer.writerKey ?? null, writtenClients, isSpokenFor)
    if (leftOut.length > 0 && isLiveEdit) {
      const detail = `client ${leftOut[0]} belongs to another writer`
      return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
    }
    for (const client of writtenClients) {
      // Announcing an id's presence holds it too: a user who has not typed yet is protected (R33).
      const holder = this.#writers.get(client) ?? this.presence.holderOf(client)
      if (holder === undefined || holder === peer || leftOut.includes(client)) continue
      if (isSameWriter(holder, peer)) {
        if (isLiveEdit) this.supersede(holder, peer)
        continue
      }
      if (!this.#isKnownAlive(holder)) {
        this.contest(holder)
        return { verdict: 'held' }
      }
      if (isLiveEdit) {
        const detail = `client ${client} belongs to another connection`
        return { verdict: 'rejected', reason: CLOSE_REASONS.foreignClient, detail }
      }
      leftOut.push(client)
    }
    return { verdict: 'ok', leftOut }
  }

  /** A live edit's client ids become this peer's (R33); false (and rejected) past the limit. */
  claim(peer: Peer, writtenClients: readonly number[]): boolean {
    for (const client of writtenClients) {
      if (this.#writers.get(client) === peer) continue
      const held = this.#heldBy(peer)
      if (held.size >= MAX_CLIENT_IDS_PER_PEER) {
        this.hooks.reject(peer, CLOSE_REASONS.foreignClient, 'too many client ids')
        return false
      }
      this.#writers.set(client, peer)
      held.add(client)
      // A client id first extended by a keyed writer is that writer's from now on; one first
      // extended by a stock writer is whoever announces it in awareness once it is gone (R33).
      this.bindings.bindIfFree(client, peer.writerKey ?? STOCK_WRITER)
      this.#released?.delete(client)
    }
    return true
  }

  /**
   * `next`, the same writer as `holder`, took one of its ids: `holder` is a connection its client
   * has left (a network switch leaves it half-open). Its ids and presence pass to `next`, and it is
   * closed as superseded (R36).
   */
  supersede(holder: Peer, next: Peer): void {
    if (!this.hooks.has(holder) || !this.hooks.has(next)) return
    const old = this.#held.get(holder)
    if (old && old.size > 0) {
      const current = this.#heldBy(next)
      for (const client of old) {
        this.#writers.set(client, next)
        current.add(client)
      }
      old.clear()
    }
    this.presence.transfer(holder, next)
    this.hooks.superseded?.(holder, next)
    this.hooks.remove(holder)
    holder.close(CLOSE_REASONS.superseded)
  }

  /**
   * Someone needs ids `holder` holds: ask it to prove it is there (R36). One that does not within
   * LIVENESS_TIMEOUT_MS is gone (its client reconnected on another connection) and is dropped,
   * which frees its ids; either way, the updates waiting for the answer are offered again.
   */
  contest(holder: Peer): void {
    if (this.#liveness.get(holder)?.kind === 'checking' || this.#isKnownAlive(holder)) return
    this.#liveness.set(holder, CHECKING)
    const settle = (isAlive: boolean): void => {
      if (this.hooks.isBroken() || !this.hooks.has(holder)) return
      if (isAlive) {
        this.#liveness.set(holder, { kind: 'alive', atMs: Date.now() })
        this.hooks.answered()
        return
      }
      this.hooks.superseded?.(holder, null)
      // The connection that contested is taken for the same client as the dead one (R36): its
      // waiting updates may extend the dead one's ids, which it has not announced yet.
      this.#released = new Set(this.#held.get(holder))
      try {
        this.hooks.remove(holder)
      } finally {
        this.#released = null
      }
      holder.close(CLOSE_REASONS.unresponsive)
    }
    holder.checkAlive(LIVENESS_TIMEOUT_MS).then(settle, () => settle(false))
  }

  /** A connection left: the ids it wrote are nobody's until someone writes or announces them. */
  forget(peer: Peer): void {
    this.#liveness.delete(peer)
    for (const client of this.#held.get(peer) ?? []) this.#writers.delete(client)
    this.#held.delete(peer)
  }

  #heldBy(peer: Peer): Set<number> {
    let held = this.#held.get(peer)
    if (!held) this.#held.set(peer, (held = new Set()))
    return held
  }

  #isKnownAlive(holder: Peer): boolean {
    const known = this.#liveness.get(holder)
    return known?.kind === 'alive' && Date.now() - known.atMs < LIVENESS_FRESH_MS
  }
}
