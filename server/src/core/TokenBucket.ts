/** A token bucket: `capacity` events at once, refilled at `perSecond`. Time is passed in. */
export class TokenBucket {
  #tokens: number
  #lastMs: number | null = null

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.#tokens = capacity
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    if (this.#lastMs !== null) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((nowMs - this.#lastMs) / 1000) * this.perSecond)
    }
    this.#lastMs = nowMs
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
