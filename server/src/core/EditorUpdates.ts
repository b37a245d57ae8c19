import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import * as Y from 'yjs'
import type { RoomDocument } from './RoomDocument.ts'
import { isEmptyUpdate, validateUpdate, type UpdateLimits } from './updateValidation.ts'
import { WaitingUpdates, type WaitReason, type WaitingUpdate } from './WaitingUpdates.ts'
import type { Ownership, WriterOwnership } from './WriterOwnership.ts'
import type { Peer } from './types.ts'

/** Starts the detail of a rejection for an update that was waiting, not the one just received. */
export const WAITING_DETAIL = 'waiting update: '

export interface EditorLimits {
  readonly update: UpdateLimits
  /** Bytes of updates waiting for missing dependencies a document may hold (R31). */
  readonly maxPendingBytes: number
  /** How many updates may wait for missing dependencies in a document (R31). */
  readonly maxWaitingUpdates: number
}

/** What editors' updates need from their room. */
export interface EditorUpdateHooks {
  has(peer: Peer): boolean
  reject(peer: Peer, reason: CloseReason, detail: string): void
  /** Applies a validated update as `peer`'s (RoomDocument.apply); false if Yjs failed it. */
  apply(peer: Peer, update: Uint8Array, isFaithful: boolean, frame: Uint8Array | null): boolean
  /** Everything `peer` sent is in the document now: acked once durable (R7). */
  ackReceived(peer: Peer): void
}

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
  | Exclude<Ownership, { readonly verdict: 'ok' }>

/**
 * Whether waiting updates are being offered. A drain asked for meanwhile (a rejection inside one)
 * runs after it, offering the updates waiting for ownership if any of those asking said so.
 */
type Drain =
  | { readonly kind: 'idle' }
  | { readonly kind: 'draining' }
  | { readonly kind: 'again'; readonly ownersChanged: boolean }
const IDLE: Drain = Object.freeze({ kind: 'idle' })
const DRAINING: Drain = Object.freeze({ kind: 'draining' })

/**
 * The way of an editor's update into the document: validated before it touches it (R31), written
 * only as its own writer (R33), held outside it while content it needs is missing or the holder of
 * ids it writes may be dead (R31, R36), then applied.
 */
export class EditorUpdates {
  /** Editors' updates waiting for content the document lacks, or for ownership (R31, R36). */
  readonly #waiting = new WaitingUpdates()
  #drain: Drain = IDLE

  constructor(
    private readonly document: Pick<RoomDocument, 'doc' | 'isBroken' | 'validate'>,
    private readonly ownership: Pick<WriterOwnership, 'check' | 'claim'>,
    private readonly limits: EditorLimits,
    private readonly hooks: EditorUpdateHooks,
  ) {}

  /**
   * An editor's update, message `seq` of its connection: applied, waiting, or rejected (false). Live
   * edits claim their client ids for this connection; nobody may add structs for an id another
   * live connection claimed. A resync (step 2) may carry others' structs the server lacks (after a
   * crash), so it claims nothing. `asReceived` is the frame it came in, if that holds exactly it.
   */
  receive(
    peer: Peer,
    received: Uint8Array,
    isLiveEdit: boolean,
    seq: number,
    asReceived: Uint8Array | null,
  ): boolean {
    // The answer of a new client to the server's step 1 holds nothing: no need to load anything.
    if (isEmptyUpdate(received)) return true
    const admission = this.#admit(peer, received, isLiveEdit)
    if (admission.verdict === 'rejected') {
      this.hooks.reject(peer, admission.reason, admission.detail)
      return false
    }
    if (admission.verdict === 'ok' && isLiveEdit && !this.ownership.claim(peer, admission.writtenClients))
      return false
    if (admission.verdict === 'held' || admission.waitsFor.size > 0) {
      if (
        this.#waitingBytes() + received.byteLength > this.limits.maxPendingBytes ||
        this.#waiting.count >= this.limits.maxWaitingUpdates
      ) {
        // Updates whose dependencies never arrive would pile up in memory: cap them (R31).
        const detail = 'too many updates waiting for missing dependencies'
        this.hooks.reject(peer, CLOSE_REASONS.invalidUpdate, detail)
        return false
      }
      if (admission.verdict === 'held')
        this.#waiting.add({ peer, seq, update: received, isLiveEdit }, 'owner')
      else this.#waiting.add({ peer, seq, update: admission.update, isLiveEdit }, admission.waitsFor)
      return true
    }
    const frame = admission.update === received ? asReceived : null
    if (!this.hooks.apply(peer, admission.update, admission.isFaithful, frame)) {
      this.hooks.reject(peer, CLOSE_REASONS.invalidUpdate, 'update failed to apply')
      return false
    }
    this.drain(false)
    return true
  }

  /** Content waiting for its dependencies is not in the document, so not saved: no ack yet (R7). */
  holdsFrom(peer: Peer): boolean {
    return this.#waiting.holdsFrom(peer)
  }

  /** A connection left: its waiting updates go (it resyncs them on reconnect). */
  forget(peer: Peer): void {
    this.#waiting.removePeer(peer)
  }

  /**
   * Offers the waiting updates that may go ahead: those whose missing content arrived, and with
   * `ownersChanged` (a holder left or answered) those waiting for ownership.
   */
  drain(ownersChanged: boolean): void {
    switch (this.#drain.kind) {
      case 'draining':
        this.#drain = { kind: 'again', ownersChanged }
        return
      case 'again':
        this.#drain = { kind: 'again', ownersChanged: this.#drain.ownersChanged || ownersChanged }
        return
      case 'idle':
        break
    }
    let owners = ownersChanged
    for (;;) {
      this.#drain = DRAINING
      if (!this.#waiting.isEmpty) this.#waiting.drain(this.#stateOf, this.#settle, owners)
      // Settling may have asked for another drain meanwhile.
      const after = this.#drain
      if (after.kind !== 'again') break
      owners = after.ownersChanged
    }
    this.#drain = IDLE
  }

  /**
   * Validation (R31) and ownership (R33, R36) of an update against the document as it is now. A
   * resync may carry other writers' structs the server lost in a crash: those writers bring them
   * back themselves, the rest of it is applied.
   */
  #admit(peer: Peer, received: Uint8Array, isLiveEdit: boolean): Admission {
    let { update, verdict } = this.document.validate(received, this.limits.update)
    if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    const ownership = this.ownership.check(peer, verdict.writtenClients, isLiveEdit)
    if (ownership.verdict !== 'ok') return ownership
    if (ownership.leftOut.length > 0) {
      const theirs = new Map(ownership.leftOut.map((client) => [client, Number.MAX_SAFE_INTEGER]))
      update = Y.diffUpdate(update, Y.encodeStateVector(theirs))
      verdict = validateUpdate(this.document.doc, update, this.limits.update)
      if (!verdict.ok) return { verdict: 'rejected', reason: verdict.reason, detail: verdict.detail }
    }
    const { writtenClients, waitsFor, isFaithful } = verdict
    return { verdict: 'ok', update, writtenClients, waitsFor, isFaithful }
  }

  readonly #stateOf = (client: number): number => Y.getState(this.document.doc.store, client)

  /** Applies a waiting update once nothing it needs is missing; refuses it if it no longer fits. */
  readonly #settle = (entry: WaitingUpdate): WaitReason | 'done' => {
    if (this.document.isBroken || !this.hooks.has(entry.peer)) return 'done'
    const admission = this.#admit(entry.peer, entry.update, entry.isLiveEdit)
    if (admission.verdict === 'held') return 'owner'
    if (admission.verdict === 'rejected') {
      this.hooks.reject(entry.peer, admission.reason, `${WAITING_DETAIL}${admission.detail}`)
      return 'done'
    }
    if (entry.isLiveEdit && !this.ownership.claim(entry.peer, admission.writtenClients)) return 'done'
    if (admission.waitsFor.size > 0) return admission.waitsFor
    if (!this.hooks.apply(entry.peer, admission.update, admission.isFaithful, null)) {
      this.hooks.reject(entry.peer, CLOSE_REASONS.invalidUpdate, `${WAITING_DETAIL}update failed to apply`)
      return 'done'
    }
    // Everything this peer sent before is now in the document: acks are cumulative (R7).
    this.hooks.ackReceived(entry.peer)
    return 'done'
  }

  /** Bytes of updates waiting for missing dependencies: the room's, and any Yjs kept itself. */
  #waitingBytes(): number {
    const { pendingStructs, pendingDs } = this.document.doc.store
    return this.#waiting.bytes + (pendingStructs?.update.byteLength ?? 0) + (pendingDs?.byteLength ?? 0)
  }
}
