import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DocBus } from '../src/core/bus.ts'

export interface BusHarness {
  /** Two nodes' buses on one network (one Redis, one in-process network). */
  readonly a: DocBus
  readonly b: DocBus
  /** Cuts node b's connection the way a network does; it comes back by itself. */
  cut(): Promise<void>
  dispose(): Promise<void>
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

/** One contract for every DocBus implementation (STYLE.md 4, 17; SPEC R65). */
export function busContract(name: string, makeHarness: () => Promise<BusHarness>): void {
  describe(`DocBus contract: ${name}`, () => {
    let harness: BusHarness
    beforeEach(async () => {
      harness = await makeHarness()
    })
    afterEach(async () => {
      await harness.dispose()
    })

    it('[R65] once subscribed, a node receives every message of the document, in order, its own too', async () => {
      const onA: number[] = []
      const onB: number[] = []
      await harness.a.subscribe('doc', (message) => onA.push(message[0] ?? -1))
      await harness.b.subscribe('doc', (message) => onB.push(message[0] ?? -1))
      for (let value = 1; value <= 20; value++) harness.a.publish('doc', bytes(value))
      const all = Array.from({ length: 20 }, (_, index) => index + 1)
      await vi.waitFor(() => expect(onB).toEqual(all))
      await vi.waitFor(() => expect(onA).toEqual(all))
    })

    it('[R65] a node hears only the documents it subscribed to, until it disposes', async () => {
      const heard: string[] = []
      const dispose = await harness.b.subscribe('doc', (message) => heard.push(`doc:${message[0]}`))
      const other = await harness.b.subscribe('doc-2', (message) => heard.push(`doc-2:${message[0]}`))
      harness.a.publish('doc-3', bytes(9))
      harness.a.publish('doc', bytes(1))
      await vi.waitFor(() => expect(heard).toEqual(['doc:1']))
      dispose()
      harness.a.publish('doc', bytes(2))
      harness.a.publish('doc-2', bytes(3))
      await vi.waitFor(() => expect(heard).toEqual(['doc:1', 'doc-2:3']))
      other()
    })

    it('[R65] two listeners of one document on one node both hear it; disposing one keeps the other', async () => {
      const first: number[] = []
      const second: number[] = []
      const disposeFirst = await harness.b.subscribe('doc', (message) => first.push(message[0] ?? -1))
      await harness.b.subscribe('doc', (message) => second.push(message[0] ?? -1))
      harness.a.publish('doc', bytes(1))
      await vi.waitFor(() => expect(first).toEqual([1]))
      await vi.waitFor(() => expect(second).toEqual([1]))
      disposeFirst()
      harness.a.publish('doc', bytes(2))
      await vi.waitFor(() => expect(second).toEqual([1, 2]))
      expect(first).toEqual([1])
    })

    it('[R65] after its connection was cut a node is told of the gap, with its subscriptions active again', async () => {
      const heard: number[] = []
      let gaps = 0
      harness.b.onGap(() => (gaps += 1))
      await harness.b.subscribe('doc', (message) => heard.push(message[0] ?? -1))
      await harness.cut()
      await vi.waitFor(() => expect(gaps).toBeGreaterThan(0), { timeout: 10_000 })
      harness.a.publish('doc', bytes(7))
      await vi.waitFor(() => expect(heard).toContain(7))
    })
  })
}
