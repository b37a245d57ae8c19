import type { SendOutcome } from './httpSender.ts'
import type { RetryPolicy } from './types.ts'

/**
 * The default schedule (SPEC R44): 5 s, 20 s, 80 s, 5⅓ min, 21⅓ min, 85⅓ min, then every 4 h,
 * 12 retries in all, each ±25 % jitter: about 26 h from the first attempt to giving up.
 *
 * Why: the first three retries (within ~2 min) ride out what usually fails a delivery — a
 * receiver restarting during a deploy, a dropped connection. Growing ×4 keeps a receiver that is
 * down for longer from being hammered (13 requests per event over a day), and the 4 h cap with a
 * day-long budget still covers an outage overnight or over a working day, after which the operator
 * has the delivery log and replay. Jitter spreads the retries of everything that failed during
 * one outage, so a receiver that comes back is not hit by all of them in the same second.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 5_000,
  factor: 4,
  maxDelayMs: 4 * 60 * 60 * 1000,
  maxRetries: 12,
  jitter: 0.25,
}

/** The nominal (un-jittered) delay before retry number `retry` (1-based). */
export function nominalDelayMs(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (retry - 1))
}

/** The jittered delay before retry number `retry`; `random` is uniform in [0, 1). */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const spread = 1 + policy.jitter * (2 * random() - 1)
  return Math.round(nominalDelayMs(policy, retry) * spread)
}

/** What an attempt's outcome means for the delivery. */
export type Verdict =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly result: string; readonly notBeforeMs: number | null }
  | { readonly kind: 'rejected'; readonly status: number }

/**
 * 2xx delivers. 408, 429, 5xx, 3xx (redirects are not followed, and a redirect during a receiver's
 * maintenance is usually temporary), timeouts and connection errors are retried. Any other 4xx is
 * the receiver saying "never send this again" — retrying would not change its answer.
 */
export function judge(outcome: Exclude<SendOutcome, { kind: 'aborted' }>): Verdict {
  switch (outcome.kind) {
    case 'response': {
      const { status } = outcome
      if (status >= 200 && status < 300) return { kind: 'delivered', status }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429)
        return { kind: 'rejected', status }
      const suffix = status >= 300 && status < 400 ? ' (redirect not followed)' : ''
      return { kind: 'retry', result: `HTTP ${status}${suffix}`, notBeforeMs: outcome.retryAfterMs }
    }
    case 'timeout':
      return { kind: 'retry', result: `timeout after ${outcome.afterMs} ms`, notBeforeMs: null }
    case 'network':
      return { kind: 'retry', result: `connection error: ${outcome.code}`, notBeforeMs: null }
  }
}
