import type { CloseReason } from '@tandem/shared'

/** What a connection may do: `edit` writes, `view` only reads (SPEC R20). */
export type Role = 'edit' | 'view'

/**
 * The core's whole view of a connected client (STYLE.md 2). Transports implement it through
 * `Session`; the core never sees a socket.
 */
export interface Peer {
  readonly id: string
  readonly role: Role
  /** The client opted in to Tandem's extension messages (saved acks, persistence state; R7). */
  readonly wantsAcks: boolean
  /** Name a viewer gave; the room publishes presence for viewers on their behalf (R21). */
  readonly viewerName: string
  /**
   * For receive-only transports (SSE): the state vector the client already has. The room then
   * opens with a sync step 2 of what it lacks instead of a step 1 it could not answer (R22).
   */
  readonly resumeFrom: Uint8Array | null
  /** A client's background check that this transport works (R26): never shown as present. */
  readonly isProbe: boolean
  /**
   * Digest of the writer key the client sent (`wk`, R33); null or absent for clients without one
   * (stock y-websocket). Yjs client ids bound to a key are written only by that key's holder.
   */
  readonly writerKey?: string | null
  send(frame: Uint8Array): void
  close(reason: CloseReason): void
  /**
   * Asks the client to prove it is still there (a WebSocket pong, a new poll, any message):
   * resolves false if it did not within `timeoutMs`. The room asks when another connection needs
   * ids this one holds (R36); a half-open connection never answers.
   */
  checkAlive(timeoutMs: number): Promise<boolean>
}

/**
 * Typed Yjs transaction origins (STYLE.md 8): broadcast skips the originating peer, the persister
 * skips what came from the store and from other nodes (`remote`: already stored by the node that
 * accepted it, SPEC R65).
 */
export type Origin =
  | { readonly kind: 'peer'; readonly peer: Peer }
  | { readonly kind: 'store' }
  | { readonly kind: 'server' }
  | { readonly kind: 'remote' }

export const STORE_ORIGIN: Origin = Object.freeze({ kind: 'store' })
export const SERVER_ORIGIN: Origin = Object.freeze({ kind: 'server' })
export const REMOTE_ORIGIN: Origin = Object.freeze({ kind: 'remote' })

export function isOrigin(value: unknown): value is Origin {
  return typeof value === 'object' && value !== null && 'kind' in value
}

/** A subscription's undo. Owners keep a list and run it on destroy (STYLE.md 10). */
export type Disposer = () => void

/** Whether the server should read more input now (R29); transports pause their readers if not. */
export interface Intake {
  readonly isOverloaded: boolean
  /** Called once the backlog went back down; paused readers resume. */
  onRelieved(listener: () => void): Disposer
}
