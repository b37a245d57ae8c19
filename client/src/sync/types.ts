import type { CloseReason } from '@tandem/shared'

export type TransportName = 'websocket' | 'sse' | 'longpoll' | 'poll'

/** `edit` sends edits and presence; `view` only receives (a view link, SPEC R20). */
export type SyncMode = 'edit' | 'view'

/** Waiting before the next connection attempt (SPEC R12). */
export interface RetryWait {
  readonly retryInMs: number
  /** When the next attempt starts, on the `Date.now()` clock: what a countdown counts down to. */
  readonly retryAtMs: number
  /** The catalogue reason the server gave for the last close, if it gave one. */
  readonly reason: CloseReason | null
  /** What went wrong, in technical terms, for the badge's details ("no message for 10 s"). */
  readonly detail: string
  /** Ends the wait and attempts at once (the badge's "Retry now"); a no-op once this wait is over. */
  readonly retryNow: () => void
}

/** The connection lifecycle (STYLE.md 6): one state at a time, never a set of booleans. */
export type ConnectionState =
  /** `attempt` is 0 for the provider's first attempt and counts every one after it. */
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'connected' }
  /**
   * The server cannot be reached at all: the browser is offline, or plain HTTP to the server fails
   * at the network level. Local edits stay in the document and go out after reconnecting.
   */
  | ({ readonly kind: 'offline' } & RetryWait)
  /** The server answers, but this connection failed or was closed (restart, limits, rejected input). */
  | ({ readonly kind: 'reconnecting' } & RetryWait)
  /** The link or the document is not valid (SPEC R12's final reasons): no retry can succeed. */
  | { readonly kind: 'refused'; readonly reason: CloseReason }
  | { readonly kind: 'destroyed' }

/**
 * Whether local edits are durable on the server (SPEC R7): `saved` only after the server's saved
 * ack covers every edit made so far; `failing` while the server reports it cannot write.
 */
export type SaveState = 'saved' | 'saving' | 'failing'

export interface ProviderStatus {
  readonly transport: TransportName
  readonly connection: ConnectionState
  /** True once the first sync step 2 from the server has been applied on this connection. */
  readonly isSynced: boolean
  readonly save: SaveState
}

export type Disposer = () => void
