import proxyAddr from '@fastify/proxy-addr'
import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { IncomingMessage } from 'node:http'
import { ConfigError } from '../config.ts'

/**
 * Concurrent connections per client IP across every transport (SPEC R30): WebSockets, event
 * streams and poll sessions all draw from one budget, so one address cannot exhaust the server.
 */
export class ConnectionBudget {
  readonly #counts = new Map<string, number>()

  constructor(private readonly maxPerIp: number) {}

  /** Takes one slot for `ip`; null when the budget is spent. */
  tryAcquire(ip: string): BudgetSlot | null {
    const count = this.#counts.get(ip) ?? 0
    if (count >= this.maxPerIp) return null
    this.#counts.set(ip, count + 1)
    return new IpSlot(this.#counts, ip)
  }
}

/** A slot of a connection budget, held until released (once; releasing again does nothing). */
export interface BudgetSlot {
  release(): void
}

/** An object, not a closure: every open connection holds one. */
class IpSlot implements BudgetSlot {
  #isReleased = false

  constructor(
    private readonly counts: Map<string, number>,
    private readonly ip: string,
  ) {}

  release(): void {
    if (this.#isReleased) return
    this.#isReleased = true
    const left = (this.counts.get(this.ip) ?? 1) - 1
    if (left <= 0) this.counts.delete(this.ip)
    else this.counts.set(this.ip, left)
  }
}

/**
 * Cross-site requests are refused (SPEC R30): a browser `Origin` must be this server's own scheme,
 * host and port, or be listed in ALLOWED_ORIGINS. Requests without Origin (non-browser clients) are allowed; they
 * cannot carry a victim's ambient credentials anyway.
 */
export function isOriginAllowed(request: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true
  if (allowed.has(origin)) return true
  try {
    const url = new URL(origin)
    // Behind a TLS-terminating proxy the browser's scheme arrives as X-Forwarded-Proto.
    const forwarded = request.headers['x-forwarded-proto']
    const scheme = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim() ?? 'http'
    return url.host === request.headers.host && url.protocol === `${scheme}:`
  } catch {
    return false
  }
}

/** Whether the peer at `address`, `hop` steps from this server, is a proxy we trust. */
export type IsTrustedProxy = (address: string, hop: number) => boolean

/**
 * TRUSTED_PROXIES (SPEC R68): addresses, CIDRs or proxy-addr's names (`loopback`, `linklocal`,
 * `uniquelocal`). Fastify's `trustProxy` and the connection budget use this one function, so a
 * request's logged address and the address its connections are counted against never differ.
 */
export function trustedProxies(entries: readonly string[]): IsTrustedProxy {
  try {
    return proxyAddr.compile([...entries])
  } catch (error) {
    throw new ConfigError(
      `invalid configuration:\n  TRUSTED_PROXIES: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
 * X-Forwarded-For entry not added by a trusted proxy. An untrusted peer's X-Forwarded-For is
 * ignored: anyone can send one, and believing it would let one client spend its budget under
 * endless made-up addresses (SPEC R30, R68).
 */
export function clientIp(request: IncomingMessage, isTrusted: IsTrustedProxy): string {
  // A socket already closed has no address; proxy-addr would return undefined for it.
  if (request.socket.remoteAddress === undefined) return 'unknown'
  return proxyAddr(request, isTrusted)
}

export type Admission =
  { readonly ok: true; readonly slot: BudgetSlot } | { readonly ok: false; readonly reason: CloseReason }

/** The gate every connection passes before authentication: origin, then the per-IP budget. */
export type Admit = (request: IncomingMessage) => Admission

export function createAdmit(
  isAllowed: (request: IncomingMessage) => boolean,
  budget: ConnectionBudget,
  isTrusted: IsTrustedProxy,
): Admit {
  return (request) => {
    if (!isAllowed(request)) return { ok: false, reason: CLOSE_REASONS.badOrigin }
    const slot = budget.tryAcquire(clientIp(request, isTrusted))
    return slot ? { ok: true, slot } : { ok: false, reason: CLOSE_REASONS.tooManyRequests }
  }
}

/** `Retry-After` seconds for refusals worth retrying (SPEC R34), else undefined. */
export function retryAfterSeconds(reason: CloseReason): number | undefined {
  if (!reason.isRetryable) return undefined
  return reason === CLOSE_REASONS.tooManyRequests ? 10 : 2
}
