import type { Disposer } from './types.ts'

/**
 * The cross-node message bus as the core needs it (SPEC R65, STYLE.md 17): one channel per
 * document, at-most-once delivery. Whatever a node misses it reads back from the store, so the bus
 * only has to say when it may have dropped something. Implementations: Redis pub/sub
 * (server/src/cluster/RedisBus.ts) and an in-process bus for tests; one contract suite.
 */
export interface DocBus {
  /**
   * Starts delivering the document's messages to `listener`. Resolves once the subscription is
   * active: every message published after that is delivered, unless `onGap` fires.
   */
  subscribe(docId: string, listener: (message: Uint8Array) => void): Promise<Disposer>
  /** Sends a message to every subscriber of the document (this node's included). Never throws. */
  publish(docId: string, message: Uint8Array): void
  /**
   * Told when messages may have been lost (the connection dropped and came back, with every
   * subscription active again): subscribers must catch up from the store.
   */
  onGap(listener: () => void): Disposer
  close(): Promise<void>
}
