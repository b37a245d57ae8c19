import { describe, expect, it } from 'vitest'
import { Persister } from '../src/core/Persister.ts'
import { TokenBucket } from '../src/core/TokenBucket.ts'
import type { AppendEntry } from '../src/persistence/DocStore.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

/** A MemoryStore whose writes wait until the test lets them through. */
class GatedStore extends MemoryStore {
  #gate: Promise<void> = Promise.resolve()
  #open: () => void = () => undefined

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve))
  }

  open(): void {
    this.#open()
  }

  override async append(entries: readonly AppendEntry[]): Promise<void> {
    await this.#gate
    return super.append(entries)
  }
}

describe('intake follows the disk', () => {
  it('[R29] the persister is overloaded past its backlog and relieved once half of it is durable', async () => {
    const store = new GatedStore()
    const persister = new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 1, maxBacklog: 100 })
    let relieved = 0
    persister.onRelieved(() => (relieved += 1))
    store.hold()
    for (let i = 0; i < 99; i++) persister.enqueue('doc', Uint8Array.of(i))
    expect(persister.isOverloaded).toBe(false)
    const last = persister.enqueue('doc', Uint8Array.of(1))
    expect(persister.isOverloaded).toBe(true)
    store.open()
    await persister.whenDurable(last)
    expect(persister.isOverloaded).toBe(false)
    expect(relieved).toBe(1)
    persister.close()
  })

  it('[R29] a work budget charged after the fact goes into debt and is repaid by time', () => {
    const budget = new TokenBucket(1_000, 250)
    expect(budget.charge(0, 600)).toBe(true)
    expect(budget.charge(0, 600)).toBe(false)
    // 200 ms of debt at 250 ms per second: repaid after 0.8 s, credit again after that.
    expect(budget.charge(800, 0)).toBe(false)
    expect(budget.charge(1_000, 0)).toBe(true)
  })
})
