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
    this.#refill(nowMs)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /**
   * Charges `amount` after the fact (e.g. milliseconds of work already done), going into debt if
   * need be; returns whether any credit is left. A debt is repaid by time, like any refill.
   */
  charge(nowMs: number, amount: number): boolean {
    this.#refill(nowMs)
    this.#tokens -= amount
    return this.#tokens > 0
  }

  #refill(nowMs: number): void {
    if (this.#lastMs !== null) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((nowMs - this.#lastMs) / 1000) * this.perSecond)
    }
    this.#lastMs = nowMs
  }
}
