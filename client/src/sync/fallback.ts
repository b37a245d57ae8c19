import { closeReasonByCode, isFinalReason, type CloseReason } from '@tandem/shared'
import { retryAfterMs, type ClientTransport, type ConnectContext } from './transport.ts'
import type { Disposer, TransportName } from './types.ts'

/*
 * What a failed connection attempt means, and where to go next: the network is gone (wait, keep
 * edits), the server turned us away for good, or only the transport is blocked (fall back, R26).
 */

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
 * Which transport to use now: the primary (WebSocket for editors, SSE for viewers) until it
 * delivers no first message while plain HTTP to the server works (checkReachability), then the
 * fallback (long polling) while the primary is probed in the background (SPEC R26). A forced
 * transport (`?transport=`) has no fallback.
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

  /** The primary delivered nothing, yet HTTP works: switch to the fallback. Returns whether it switched. */
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

/** Whether the browser has a network at all, and when that changes (SPEC R12). */
export interface Connectivity {
  /** False only when the browser knows it has no network (`navigator.onLine`); true may be wrong. */
  isOnline(): boolean
  /** The `online` (true) and `offline` (false) events. */
  onChange(listener: (isOnline: boolean) => void): Disposer
}

/** `navigator.onLine` and the window's `online`/`offline` events; always online outside a browser. */
export function browserConnectivity(): Connectivity {
  const target = typeof window === 'undefined' ? null : window
  return {
    // `!== false`: Node 21+ has a `navigator` without `onLine`; only a browser's explicit false counts.
    isOnline: () => typeof navigator === 'undefined' || (navigator.onLine as boolean | undefined) !== false,
    onChange(listener) {
      if (target === null) return () => undefined
      const online = (): void => listener(true)
      const offline = (): void => listener(false)
      target.addEventListener('online', online)
      target.addEventListener('offline', offline)
      return () => {
        target.removeEventListener('online', online)
        target.removeEventListener('offline', offline)
      }
    },
  }
}

/** What plain HTTP to the server says about the document, after a connection delivered nothing. */
export type Reachability =
  /** A network error or no answer in time: the device is offline, or the server is down. */
  | { readonly kind: 'unreachable'; readonly detail: string }
  /** 2xx/304: HTTP gets through, so the transport itself is what fails (blocked upgrades, buffering). */
  | { readonly kind: 'reachable' }
  /** The catalogue's final answer (SPEC R12, R17): a deleted document, a reset link. */
  | { readonly kind: 'refused'; readonly reason: CloseReason }
  /** Any other answer (503, 429, a proxy's error page): the server is there but not serving now. */
  | {
      readonly kind: 'failing'
      readonly status: number
      readonly reason: CloseReason | null
      readonly retryAfterMs: number | undefined
    }

export interface ReachabilityCheck {
  readonly baseUrl: string
  readonly docId: string
  readonly token: string
  readonly fetchImpl: typeof fetch
  /** A request that has not answered by then counts as a network failure. */
  readonly timeoutMs: number
  /** Aborts the check (the provider was destroyed). */
  readonly signal?: AbortSignal
}

/**
 * `GET /api/docs/<id>?k=<token>` (docs/PROTOCOL.md §3): the cheapest request that tells the three
 * cases apart. A WebSocket refused before the upgrade (a deleted document: 404) shows in the browser
 * only as close code 1006, so this is also how such a refusal is learned. `no-store`: an answer from
 * the browser's cache would say nothing about the network.
 */
export async function checkReachability(check: ReachabilityCheck): Promise<Reachability> {
  const url = new URL(`/api/docs/${encodeURIComponent(check.docId)}`, check.baseUrl)
  url.searchParams.set('k', check.token)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), check.timeoutMs)
  const abort = (): void => controller.abort()
  check.signal?.addEventListener('abort', abort)
  try {
    const response = await check.fetchImpl(url, { cache: 'no-store', signal: controller.signal })
    if (response.ok || response.status === 304) {
      await response.body?.cancel().catch(() => undefined)
      return { kind: 'reachable' }
    }
    const reason = await catalogueReasonOf(response)
    // Only the server's own catalogue answer is final: a captive portal's or a proxy's 403/404
    // page says nothing about the document, and retrying it costs nothing.
    if (reason !== null && isFinalReason(reason)) return { kind: 'refused', reason }
    return { kind: 'failing', status: response.status, reason, retryAfterMs: retryAfterMs(response) }
  } catch {
    return {
      kind: 'unreachable',
      detail: controller.signal.aborted ? `no HTTP answer within ${check.timeoutMs} ms` : 'network error',
    }
  } finally {
    clearTimeout(timer)
    check.signal?.removeEventListener('abort', abort)
  }
}

/** Refusals are `{"error", "code"}` with a catalogue close code (docs/PROTOCOL.md §3, §4). */
async function catalogueReasonOf(response: Response): Promise<CloseReason | null> {
  const body: unknown = await response.json().catch(() => null)
  const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['code'] : null
  return typeof code === 'number' ? (closeReasonByCode(code) ?? null) : null
}
