export interface BackoffOptions {
  readonly baseMs: number
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000 }

/**
 * "Full jitter" exponential backoff: a uniformly random delay up to base·2^attempt (capped), so a
 * server restart is not met by every client reconnecting in the same millisecond (SPEC R12).
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt))
  return Math.round(random() * ceiling)
}
