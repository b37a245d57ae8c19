/**
 * Bound to a client id first extended by a connection without a writer key (a stock client): not a
 * digest (those are hex), so no key matches it. Once its connection is gone, such an id is extended
 * only by a connection that announces it as its own awareness client id (R33).
 */
export const STOCK_WRITER = 'stock'

/**
 * Which writer key (digest) may extend which Yjs client id (R33). Loaded with the document;
 * bindings made since the last persisted update are handed to it, so they are stored in the same
 * batch as the update that made them.
 */
export class WriterBindings {
  readonly #keys: Map<number, string>
  #unsaved: Array<[number, string]> = []

  constructor(stored: ReadonlyMap<number, string> | undefined) {
    this.#keys = new Map(stored ?? [])
  }

  /**
   * The client ids among `clients` bound to a key other than `writerKey`; a stock writer's ids
   * count as foreign unless `isSpokenFor`: a connection holds them now (the room checks that
   * holder), or announced them as its own, or just contested their dead holder (R33, R36).
   */
  foreignTo(
    writerKey: string | null,
    clients: readonly number[],
    isSpokenFor: (client: number) => boolean,
  ): number[] {
    return clients.filter((client) => {
      const bound = this.#keys.get(client)
      if (bound === undefined) return false
      return bound === STOCK_WRITER ? !isSpokenFor(client) : bound !== writerKey
    })
  }

  /** Binds `client` to `writerKey` unless it is bound already (first writer wins). */
  bindIfFree(client: number, writerKey: string): void {
    if (this.#keys.has(client)) return
    this.#keys.set(client, writerKey)
    this.#unsaved.push([client, writerKey])
  }

  /** A binding another node made and stored (R65): known here, not stored again. */
  learn(client: number, writerKey: string): void {
    if (!this.#keys.has(client)) this.#keys.set(client, writerKey)
  }

  /** Bindings not yet handed to the persister; undefined when there are none. */
  takeUnsaved(): Array<[number, string]> | undefined {
    return this.#unsaved.length > 0 ? this.#unsaved.splice(0) : undefined
  }
}
