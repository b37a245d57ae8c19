import type { CloseReason } from '@tandem/shared'

export type TransportName = 'websocket' | 'sse' | 'longpoll' | 'poll'

/** `edit` sends edits and presence; `view` only receives (a view link, SPEC R20). */
export type SyncMode = 'edit' | 'view'

/** The connection lifecycle (STYLE.md 6): one state at a time, never a set of booleans. */
export type ConnectionState =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'connected' }
  | { readonly kind: 'offline'; readonly retryInMs: number; readonly reason: CloseReason | null }
  /** The server refused for good (bad doc id, no access): no retry. */
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
