import * as Y from 'yjs'

/**
 * The state vector of a document made of these updates, from their struct ranges alone (much
 * cheaper than applying them): each client's state is the highest end clock any update reaches.
 */
export function stateVectorOf(updates: readonly Uint8Array[]): Uint8Array {
  const state = new Map<number, number>()
  for (const update of updates) {
    for (const [client, clock] of Y.parseUpdateMeta(update).to) {
      if (clock > (state.get(client) ?? 0)) state.set(client, clock)
    }
  }
  return Y.encodeStateVector(state)
}
