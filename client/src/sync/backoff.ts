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

/**
 * The waits of a loop (STYLE.md 12), each of which can be cut short: "Retry now", the browser's
 * `online` event and destroy() wake the connect loop instead of racing a second timer against it.
 */
export class Sleeper {
  readonly #wakers = new Set<() => void>()

  /** Resolves after `ms`, or at the next wake(), whichever is first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, Math.max(0, ms))
      this.#wakers.add(wake)
    })
  }

  /** Ends every pending sleep now; a later sleep() waits again. */
  wake(): void {
    for (const wake of [...this.#wakers]) wake()
  }
}
