import type { ClientTransport, ConnectContext } from './transport.ts'
import type { TransportName } from './types.ts'

/** Where the fallback choice is remembered between page loads (SPEC R26). */
export interface FallbackMemory {
  /** The remembered fallback transport, if the choice has not expired. */
  recall(): TransportName | null
  remember(name: TransportName, forMs: number): void
  forget(): void
}

/**
 * What the plan adds when it opens the fallback: the server counts connections that had to fall
 * back (long polling sends `fallback=1`; SPEC R51).
 */
export interface FallbackConnectContext extends ConnectContext {
  readonly isFallback?: boolean
}

const STORAGE_KEY = 'tandem:transport-fallback'
/** How long a fallback is remembered: long enough to skip the failing probe on every page load. */
export const FALLBACK_MEMORY_MS = 10 * 60_000

export function browserFallbackMemory(): FallbackMemory {
  const storage = typeof localStorage === 'undefined' ? null : localStorage
  let inMemory: { name: TransportName; until: number } | null = null
  return {
    recall() {
      const raw = storage?.getItem(STORAGE_KEY)
      const entry = raw ? (JSON.parse(raw) as { name: TransportName; until: number }) : inMemory
      return entry && entry.until > Date.now() ? entry.name : null
    },
    remember(name, forMs) {
      inMemory = { name, until: Date.now() + forMs }
      storage?.setItem(STORAGE_KEY, JSON.stringify(inMemory))
    },
    forget() {
      inMemory = null
      storage?.removeItem(STORAGE_KEY)
    },
  }
}

/**
 * Which transport to use now: the primary (WebSocket for editors, SSE for viewers) until it fails
 * to deliver a first message, then the fallback (long polling) while the primary is probed in the
 * background (SPEC R26). A forced transport (`?transport=`) has no fallback.
 */
export class TransportPlan {
  #current: ClientTransport
  readonly fallback: ClientTransport | null

  constructor(
    readonly primary: ClientTransport,
    fallback: ClientTransport | null,
    private readonly memory: FallbackMemory,
  ) {
    this.fallback = fallback && asFallback(fallback)
    this.#current = this.fallback && memory.recall() === this.fallback.name ? this.fallback : primary
  }

  get current(): ClientTransport {
    return this.#current
  }

  get isOnFallback(): boolean {
    return this.fallback !== null && this.#current === this.fallback
  }

  /** The primary delivered nothing: switch to the fallback. Returns whether it switched. */
  primaryFailed(): boolean {
    if (!this.fallback || this.#current !== this.primary) return false
    this.#current = this.fallback
    this.memory.remember(this.fallback.name, FALLBACK_MEMORY_MS)
    return true
  }

  /** A background probe of the primary succeeded: use it again. */
  primaryWorks(): void {
    this.#current = this.primary
    this.memory.forget()
  }
}

/** The fallback transport, opened with `isFallback` so it can say so to the server. */
function asFallback(transport: ClientTransport): ClientTransport {
  return {
    name: transport.name,
    canSend: transport.canSend,
    open(handlers, context) {
      const fallbackContext: FallbackConnectContext = { ...context, isFallback: true }
      return transport.open(handlers, fallbackContext)
    },
  }
}
