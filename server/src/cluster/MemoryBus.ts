import type { DocBus } from '../core/bus.ts'
import type { Disposer } from '../core/types.ts'

/**
 * Nodes in one process on one in-memory network: a DocBus with Redis pub/sub's guarantees (order
 * per publisher, at most once, nothing kept) and none of its I/O. For tests of the cluster logic
 * that need no Redis; it passes the same contract suite as RedisBus.
 */
export class MemoryBusNetwork {
  readonly #buses = new Set<MemoryBus>()

  connect(): MemoryBus {
    const bus = new MemoryBus((docId, message) => {
      for (const peer of this.#buses) peer.deliver(docId, message)
    })
    this.#buses.add(bus)
    return bus
  }
}

export class MemoryBus implements DocBus {
  readonly #listeners = new Map<string, Set<(message: Uint8Array) => void>>()
  readonly #gapListeners = new Set<() => void>()
  #isCut = false
  #isClosed = false

  constructor(private readonly send: (docId: string, message: Uint8Array) => void) {}

  subscribe(docId: string, listener: (message: Uint8Array) => void): Promise<Disposer> {
    let listeners = this.#listeners.get(docId)
    if (!listeners) this.#listeners.set(docId, (listeners = new Set()))
    listeners.add(listener)
    return Promise.resolve(() => {
      const current = this.#listeners.get(docId)
      current?.delete(listener)
      if (current?.size === 0) this.#listeners.delete(docId)
    })
  }

  publish(docId: string, message: Uint8Array): void {
    if (this.#isCut || this.#isClosed) return
    // Asynchronous, as over a network; microtasks keep one publisher's order.
    const copy = message.slice()
    queueMicrotask(() => this.send(docId, copy))
  }

  onGap(listener: () => void): Disposer {
    this.#gapListeners.add(listener)
    return () => this.#gapListeners.delete(listener)
  }

  /** What a dropped connection does: messages meanwhile are lost; then listeners hear of the gap. */
  cut(): Promise<void> {
    this.#isCut = true
    return new Promise((resolve) =>
      setImmediate(() => {
        this.#isCut = false
        for (const listener of this.#gapListeners) listener()
        resolve()
      }),
    )
  }

  deliver(docId: string, message: Uint8Array): void {
    if (this.#isCut || this.#isClosed) return
    for (const listener of this.#listeners.get(docId) ?? []) listener(message)
  }

  close(): Promise<void> {
    this.#isClosed = true
    this.#listeners.clear()
    return Promise.resolve()
  }
}
