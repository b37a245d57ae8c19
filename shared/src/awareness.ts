import * as encoding from 'lib0/encoding'

export interface AwarenessEntry {
  readonly clientId: number
  readonly clock: number
  /** JSON-serialisable state; null removes the client. */
  readonly state: unknown
}

/**
 * Encodes a y-protocols awareness update for arbitrary client ids. The server uses it to put
 * presence for viewers, who cannot send awareness themselves (SPEC R21). Same layout as
 * y-protocols' encodeAwarenessUpdate: count, then (clientId, clock, JSON state) per entry.
 */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, JSON.stringify(entry.state))
  }
  return encoding.toUint8Array(encoder)
}

/** The awareness state the server publishes for each connected viewer. */
export interface ViewerPresence {
  readonly viewer: { readonly name: string }
}

export function isViewerPresence(state: unknown): state is ViewerPresence {
  return typeof state === 'object' && state !== null && 'viewer' in state
}

export const MAX_VIEWER_NAME_LENGTH = 64
