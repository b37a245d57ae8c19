import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { IncomingMessage } from 'node:http'

/**
 * Concurrent connections per client IP across every transport (SPEC R30): WebSockets, event
 * streams and poll sessions all draw from one budget, so one address cannot exhaust the server.
 */
export class ConnectionBudget {
  readonly #counts = new Map<string, number>()

  constructor(private readonly maxPerIp: number) {}

  /** Takes one slot for `ip`; returns its release, or null when the budget is spent. */
  tryAcquire(ip: string): (() => void) | null {
    const count = this.#counts.get(ip) ?? 0
    if (count >= this.maxPerIp) return null
    this.#counts.set(ip, count + 1)
    let isReleased = false
    return () => {
      if (isReleased) return
      isReleased = true
      const left = (this.#counts.get(ip) ?? 1) - 1
      if (left <= 0) this.#counts.delete(ip)
      else this.#counts.set(ip, left)
    }
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

export function clientIp(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown'
}

export type Admission =
  { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly reason: CloseReason }

/** The gate every connection passes before authentication: origin, then the per-IP budget. */
export type Admit = (request: IncomingMessage) => Admission

export function createAdmit(
  isAllowed: (request: IncomingMessage) => boolean,
  budget: ConnectionBudget,
): Admit {
  return (request) => {
    if (!isAllowed(request)) return { ok: false, reason: CLOSE_REASONS.badOrigin }
    const release = budget.tryAcquire(clientIp(request))
    return release ? { ok: true, release } : { ok: false, reason: CLOSE_REASONS.tooManyRequests }
  }
}

/** `Retry-After` seconds for refusals worth retrying (SPEC R34), else undefined. */
export function retryAfterSeconds(reason: CloseReason): number | undefined {
  if (!reason.isRetryable) return undefined
  return reason === CLOSE_REASONS.tooManyRequests ? 10 : 2
}
