import { encodeMessage } from '@tandem/shared'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { stateVectorOf } from './storedState.ts'
import { STORE_ORIGIN, type Origin } from './types.ts'
import { validateUpdate, type UpdateLimits, type UpdateVerdict } from './updateValidation.ts'

/**
 * Where a room's document is in its life.
 * - `stored`: loaded from storage, not applied yet. Joiners are answered from these bytes (state
 *   vector from their struct ranges, step 2 from the bytes themselves) and they are applied on the
 *   first use of `doc`: opening a large document costs no Yjs integration and no re-encoding until
 *   someone edits it (issue 6).
 * - `materializing`: the stored updates are being applied; they are neither broadcast nor persisted
 *   again.
 * - `live`: the Y.Doc is the document.
 * - `broken`: an update failed halfway; this memory is not trusted any more and the room is being
 *   given up, to be reloaded from storage by its registry (R31). Nothing leaves it.
 */
export type RoomState =
  | { readonly kind: 'stored'; readonly updates: readonly Uint8Array[]; readonly stateVector: Uint8Array }
  | { readonly kind: 'materializing' }
  | { readonly kind: 'live' }
  | { readonly kind: 'broken' }

const MATERIALIZING: RoomState = Object.freeze({ kind: 'materializing' })
const LIVE: RoomState = Object.freeze({ kind: 'live' })
const BROKEN: RoomState = Object.freeze({ kind: 'broken' })

/** What the document tells its room. */
export interface RoomDocumentHooks {
  /**
   * The document changed by `update`; `frame`, when given, is the sync update message holding
   * exactly it. Never called once broken: what a broken room holds must not spread (R31).
   */
  changed(update: Uint8Array, origin: unknown, frame: Uint8Array | null): void
  /** The room's memory can no longer be trusted: its owner must unload it (R31). */
  broken?: () => void
}

/** An update being applied, and what Yjs changed after it on its own. */
interface Applying {
  readonly origin: Origin
  hasChanged: boolean
  readonly followUps: Uint8Array[]
  /** For an update Yjs does not integrate as it is: what Yjs encoded of each transaction. */
  readonly produced: Uint8Array[] | null
}

/**
 * A room's Y.Doc through its lifecycle (RoomState), and the one way updates get into it: whole, or
 * not at all (R31). Reports every change, as the bytes that made it, to the room.
 */
export class RoomDocument {
  #state: RoomState = LIVE
  /** Set for the length of one `apply`: tells its own transaction from Yjs's follow-ups. */
  #applying: Applying | null = null
  /** The whole document as a step 2 frame, encoded once for every joiner until it changes. */
  #fullStateFrame: Uint8Array | null = null

  /**
   * Reading every stored struct's range decodes each entry: an undecodable stored value throws
   * here and the caller fails this document closed (R10).
   */
  constructor(
    private readonly ydoc: Y.Doc,
    stored: readonly Uint8Array[],
    private readonly hooks: RoomDocumentHooks,
  ) {
    if (stored.length > 0)
      this.#state = { kind: 'stored', updates: stored, stateVector: stateVectorOf(stored) }
    // Not Yjs's 'update' event: Yjs would encode every transaction again (an 8 MiB insert costs
    // tens of MiB to re-encode) when the room already holds the validated bytes it applied.
    ydoc.on('afterTransaction', this.#onTransaction)
  }

  /** The document; stored updates are applied on first use. */
  get doc(): Y.Doc {
    switch (this.#state.kind) {
      case 'stored':
        this.#materialize(this.#state.updates)
        return this.ydoc
      case 'materializing':
      case 'live':
      case 'broken':
        return this.ydoc
    }
  }

  /** Whether its stored updates were applied: only then can its content have changed. */
  get isMaterialized(): boolean {
    return this.#state.kind !== 'stored'
  }

  get isBroken(): boolean {
    return this.#state.kind === 'broken'
  }

  /** The document's state vector, without applying stored updates. */
  stateVector(): Uint8Array {
    switch (this.#state.kind) {
      case 'stored':
        return this.#state.stateVector
      case 'materializing':
      case 'live':
      case 'broken':
        return Y.encodeStateVector(this.ydoc)
    }
  }

  /** The whole document as one update: from storage as it is while nothing is applied yet. */
  fullState(): Uint8Array {
    switch (this.#state.kind) {
      case 'stored': {
        const { updates } = this.#state
        return updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates([...updates])
      }
      case 'materializing':
      case 'live':
      case 'broken':
        return Y.encodeStateAsUpdate(this.ydoc)
    }
  }

  /**
   * The step 2 answering a state vector. A new client (empty state vector) gets the cached frame
   * of the whole document: joining a large document costs no encoding while it is unchanged.
   */
  step2For(stateVector: Uint8Array): Uint8Array {
    if (stateVector.byteLength === 1 && stateVector[0] === 0) {
      this.#fullStateFrame ??= encodeMessage({ type: 'sync-step2', update: this.fullState() })
      return this.#fullStateFrame
    }
    return encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, stateVector) })
  }

  /**
   * Validates an update against the document as it is now (R31). One that repeats content the
   * document has is validated, and returned, without it.
   */
  validate(received: Uint8Array, limits: UpdateLimits): { update: Uint8Array; verdict: UpdateVerdict } {
    let update = received
    let verdict = validateUpdate(this.doc, update, limits)
    if (verdict.ok && verdict.needsTrim) {
      update = Y.diffUpdate(update, Y.encodeStateVector(this.doc))
      verdict = validateUpdate(this.doc, update, limits)
    }
    return { update, verdict }
  }

  /**
   * Applies an update so that it is broadcast and persisted only if Yjs integrates all of it. If
   * Yjs throws halfway, or keeps part of it pending (input validation missed something), nothing
   * of it leaves the room, and the room, whose memory may now hold half an update, is given up
   * and reloaded from storage by its registry: every peer reconnects and resyncs (R31).
   * Integrated whole, a faithful update (see validateUpdate) is what changed the document: it is
   * reported (as the frame it came in, when given) as it is, not encoded again by Yjs; any other
   * is reported as what Yjs encodes of the change.
   */
  apply(update: Uint8Array, origin: Origin, isFaithful: boolean, frame: Uint8Array | null): boolean {
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
      this.#giveUp()
      return false
    } finally {
      this.#applying = null
      if (!isFaithful) doc.off('update', produced)
    }
    if (applying.produced) {
      for (const change of applying.produced) this.#changed(change, origin, null)
      return true
    }
    if (applying.hasChanged) this.#changed(update, origin, frame)
    for (const followUp of applying.followUps) this.#changed(followUp, null, null)
    return true
  }

  destroy(): void {
    this.ydoc.off('afterTransaction', this.#onTransaction)
    this.ydoc.destroy()
  }

  /**
   * Applies the stored updates, in one transaction (linear, where Y.mergeUpdates grows faster).
   * If Yjs cannot, the room is given up (its peers are told the document is unavailable) and the
   * error propagates to whoever needed the content.
   */
  #materialize(updates: readonly Uint8Array[]): void {
    const doc = this.ydoc
    this.#state = MATERIALIZING
    try {
      doc.transact(() => {
        for (const update of updates) Y.applyUpdate(doc, update, STORE_ORIGIN)
      }, STORE_ORIGIN)
    } catch (error) {
      this.#giveUp()
      throw error
    }
    this.#state = LIVE
  }

  #giveUp(): void {
    this.#state = BROKEN
    this.hooks.broken?.()
  }

  /**
   * Notes what a transaction changed. The one applying an update changed the document by that
   * update; any other (Yjs's own clean-up of redundant formatting marks after it, a change made
   * outside `apply`) is encoded from the transaction and goes out after it.
   */
  readonly #onTransaction = (transaction: Y.Transaction): void => {
    switch (this.#state.kind) {
      case 'materializing':
        // What storage holds is neither broadcast nor persisted again.
        return
      case 'stored':
      case 'live':
      case 'broken':
        break
    }
    if (!hasChanges(transaction)) return
    const applying = this.#applying
    // Yjs encodes every transaction of an update that is not integrated as it is.
    if (applying?.produced) return
    if (applying && !applying.hasChanged && transaction.origin === applying.origin) {
      applying.hasChanged = true
      return
    }
    const update = encodeTransaction(this.ydoc, transaction)
    if (applying) applying.followUps.push(update)
    else this.#changed(update, transaction.origin, null)
  }

  #changed(update: Uint8Array, origin: unknown, frame: Uint8Array | null): void {
    this.#fullStateFrame = null
    switch (this.#state.kind) {
      case 'broken':
        return
      case 'stored':
      case 'materializing':
      case 'live':
        this.hooks.changed(update, origin, frame)
    }
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
