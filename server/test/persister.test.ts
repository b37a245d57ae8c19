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

/** A MemoryStore that records the batches it was given. */
class CountingStore extends MemoryStore {
  readonly batches: number[] = []

  override async append(entries: readonly AppendEntry[]): Promise<void> {
    this.batches.push(entries.length)
    return super.append(entries)
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('group commit', () => {
  it('[R6] updates of several turns within the gathering window share one batch', async () => {
    const store = new CountingStore()
    const persister = new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 1, gatherMs: 200 })
    persister.enqueue('a', Uint8Array.of(1))
    await nextTurn()
    persister.enqueue('b', Uint8Array.of(2))
    await nextTurn()
    const last = persister.enqueue('a', Uint8Array.of(3))
    expect(persister.isDurable(last)).toBe(false)
    await persister.whenDurable(last)
    expect(store.batches).toEqual([3])
    persister.close()
  })

  it('[R6] enough waiting bytes start the commit without waiting out the window', async () => {
    const store = new CountingStore()
    // A window no test would wait for: only the byte threshold can make this durable.
    const persister = new Persister(store, {
      retryDelayMs: 1,
      maxRetryDelayMs: 1,
      gatherMs: 3_600_000,
      gatherBytes: 8,
    })
    persister.enqueue('a', new Uint8Array(4))
    const last = persister.enqueue('a', new Uint8Array(4))
    await persister.whenDurable(last)
    expect(store.batches).toEqual([2])
    persister.close()
  })

  it('[R7] afterDurable callbacks run once their ticket is durable; a failing one stops no other', async () => {
    const persister = new Persister(new CountingStore(), { retryDelayMs: 1, maxRetryDelayMs: 1 })
    const ran: number[] = []
    const first = persister.enqueue('a', Uint8Array.of(1))
    const second = persister.enqueue('a', Uint8Array.of(2))
    persister.afterDurable(first, () => {
      throw new Error('a failing waiter')
    })
    persister.afterDurable(first, () => ran.push(first))
    persister.afterDurable(second, () => ran.push(second))
    expect(ran).toEqual([])
    await persister.whenDurable(second)
    expect(ran).toEqual([first, second])
    // Durable already: at once.
    persister.afterDurable(first, () => ran.push(0))
    expect(ran).toEqual([first, second, 0])
    persister.close()
  })
})

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
