import { Redis } from 'ioredis'
import type { DocBus } from '../core/bus.ts'
import type { Disposer } from '../core/types.ts'

/** How long a subscription may take before the load goes ahead; a late one is a gap (R65). */
const SUBSCRIBE_WAIT_MS = 2_000
const MAX_RECONNECT_DELAY_MS = 2_000

export type RedisBusEvent =
  | { readonly kind: 'down'; readonly connection: 'publish' | 'subscribe'; readonly error: unknown }
  | { readonly kind: 'up'; readonly connection: 'publish' | 'subscribe' }
  | { readonly kind: 'dropped' }

export interface RedisBusOptions {
  readonly url: string
  /** Prefix of every channel (REDIS_PREFIX), so clusters and test runs can share one Redis. */
  readonly prefix: string
  readonly onEvent?: (event: RedisBusEvent) => void
}

/**
 * The document bus on Redis pub/sub (SPEC R65). Pub/sub, not streams: PostgreSQL already holds
 * every update in order, so Redis needs to keep nothing — a message is worth sending only to the
 * nodes listening now, and a node that was not listening reads the store. One channel per document
 * (`<prefix>doc:<id>`), so a node receives only the documents it serves. Two connections, as Redis
 * requires: one subscribes, one publishes. A publish while Redis is unreachable is dropped, not
 * queued in memory; when either connection comes back, `onGap` listeners are told.
 */
export class RedisBus implements DocBus {
  readonly #pub: Redis
  readonly #sub: Redis
  readonly #listeners = new Map<string, Set<(message: Uint8Array) => void>>()
  readonly #gapListeners = new Set<() => void>()
  #isClosed = false

  private constructor(private readonly options: RedisBusOptions) {
    const common = {
      lazyConnect: true,
      retryStrategy: (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
    }
    // Named after the prefix, so `CLIENT LIST` tells clusters (and test runs) apart.
    // A publish that cannot go now is dropped: the gap it leaves is found by sequence (R65).
    this.#pub = new Redis(options.url, {
      ...common,
      connectionName: `${options.prefix}publish`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    })
    // Subscriptions wait for the connection, however long it takes.
    this.#sub = new Redis(options.url, {
      ...common,
      connectionName: `${options.prefix}subscribe`,
      maxRetriesPerRequest: null,
    })
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const listeners = this.#listeners.get(channel.toString())
      if (!listeners) return
      const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
      for (const listener of listeners) listener(bytes)
    })
    this.#watch(this.#pub, 'publish')
    this.#watch(this.#sub, 'subscribe')
  }

  static async open(options: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(options)
    try {
      await Promise.all([bus.#pub.connect(), bus.#sub.connect()])
    } catch (error) {
      await bus.close()
      throw error
    }
    return bus
  }

  async subscribe(docId: string, listener: (message: Uint8Array) => void): Promise<Disposer> {
    const channel = this.#channel(docId)
    let listeners = this.#listeners.get(channel)
    const isFirst = !listeners
    if (!listeners) this.#listeners.set(channel, (listeners = new Set()))
    listeners.add(listener)
    const dispose: Disposer = () => {
      const current = this.#listeners.get(channel)
      if (!current?.delete(listener) || current.size > 0) return
      this.#listeners.delete(channel)
      if (!this.#isClosed) this.#sub.unsubscribe(channel).catch(() => {})
    }
    if (isFirst) {
      const subscribed = this.#sub.subscribe(channel).then(
        () => true,
        () => false,
      )
      // Redis unreachable: the document loads anyway; the reconnect is a gap, which catches up.
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), SUBSCRIBE_WAIT_MS)),
      )
      await Promise.race([subscribed, late])
      clearTimeout(timer)
    }
    return dispose
  }

  publish(docId: string, message: Uint8Array): void {
    if (this.#isClosed || this.#pub.status !== 'ready') {
      this.options.onEvent?.({ kind: 'dropped' })
      return
    }
    this.#pub
      .publish(this.#channel(docId), Buffer.from(message.buffer, message.byteOffset, message.byteLength))
      .catch(() => this.options.onEvent?.({ kind: 'dropped' }))
  }

  /** The connection that publishes, for other short commands (the presence directory). */
  get commands(): Redis {
    return this.#pub
  }

  onGap(listener: () => void): Disposer {
    this.#gapListeners.add(listener)
    return () => this.#gapListeners.delete(listener)
  }

  async close(): Promise<void> {
    this.#isClosed = true
    this.#listeners.clear()
    await Promise.all([
      this.#pub.quit().catch(() => this.#pub.disconnect()),
      this.#sub.quit().catch(() => this.#sub.disconnect()),
    ])
  }

  #channel(docId: string): string {
    return `${this.options.prefix}doc:${docId}`
  }

  /** Tells of a connection lost and regained; the listeners hear of it once it serves again. */
  #watch(connection: Redis, name: 'publish' | 'subscribe'): void {
    let wasDown = false
    connection.on('error', (error: unknown) => {
      if (wasDown) return
      wasDown = true
      this.options.onEvent?.({ kind: 'down', connection: name, error })
    })
    connection.on('close', () => {
      if (this.#isClosed || wasDown) return
      wasDown = true
      this.options.onEvent?.({ kind: 'down', connection: name, error: null })
    })
    connection.on('ready', () => {
      if (!wasDown || this.#isClosed) return
      wasDown = false
      // ioredis re-subscribes right after 'ready': a ping answered after those subscriptions
      // shows they are active, so a catch-up that starts now misses nothing.
      setImmediate(() => {
        connection.ping().then(
          () => {
            this.options.onEvent?.({ kind: 'up', connection: name })
            for (const listener of this.#gapListeners) listener()
          },
          () => {},
        )
      })
    })
  }
}
