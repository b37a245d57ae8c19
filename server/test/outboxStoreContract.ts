import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Claim, ClaimTicket, OutboxStore } from '../src/webhooks/OutboxStore.ts'
import type { DeliveryRecord, EndpointRecord, UpdateWindow } from '../src/webhooks/types.ts'

export interface OutboxHarness {
  readonly outbox: OutboxStore
  /** Closes and opens the store again on the same data (a restart), or null (memory). */
  readonly reopen: (() => Promise<OutboxStore>) | null
  /** Another process's store on the same data (shared stores: another node), or null. */
  readonly peer: (() => Promise<OutboxStore>) | null
  dispose(): Promise<void>
}

const T = 1_700_000_000_000
const LEASE_MS = 30_000
const HOUR_MS = 60 * 60 * 1000

export function endpointRecord(id: string, overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id,
    url: 'https://receiver.example/hook',
    events: ['document.created', 'document.updated'],
    docId: null,
    description: '',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    source: 'admin',
    createdAt: T,
    status: { kind: 'active' },
    consecutiveFailures: 0,
    failingSince: null,
    ...overrides,
  }
}

/** A pending delivery; ids sort by `n` as real ones sort by creation time. */
export function deliveryRecord(endpointId: string, n: number, at = T): DeliveryRecord {
  return {
    id: `msg_${n.toString(16).padStart(12, '0')}00000000000000000000`,
    endpointId,
    type: 'document.created',
    docId: 'doc1',
    body: `{"type":"document.created","n":${n}}`,
    createdAt: at,
    attempts: 0,
    lastAttempt: null,
    state: { kind: 'pending', nextAttemptAt: at, failures: 0 },
  }
}

const window: UpdateWindow = { docId: 'doc1', windowId: 'w1', firstAt: T, contributors: ['Ada', ''] }

function ticketOf(claim: Claim): ClaimTicket {
  if (claim.kind !== 'due') throw new Error(`expected a due claim, got ${claim.kind}`)
  return claim.ticket
}

function attempted(delivery: DeliveryRecord, state: DeliveryRecord['state']): DeliveryRecord {
  const lastAttempt = { at: T, durationMs: 5, result: 'HTTP 503' }
  return { ...delivery, attempts: delivery.attempts + 1, lastAttempt, state }
}

/** One contract, run against every OutboxStore implementation (STYLE.md 4, 17). */
export function outboxStoreContract(name: string, makeHarness: () => Promise<OutboxHarness>): void {
  describe(`OutboxStore contract: ${name}`, () => {
    let harness: OutboxHarness
    let outbox: OutboxStore
    beforeEach(async () => {
      harness = await makeHarness()
      outbox = harness.outbox
      await outbox.putEndpoint(endpointRecord('ep_a'))
    })
    afterEach(() => harness.dispose())

    it('[R41] keeps endpoints; changes one as stored; removes one with its log and queue', async () => {
      await outbox.putEndpoint(endpointRecord('ep_b', { description: 'second' }))
      expect((await outbox.endpoints()).map((e) => e.id).sort()).toEqual(['ep_a', 'ep_b'])
      expect(await outbox.endpoint('ep_b')).toEqual(endpointRecord('ep_b', { description: 'second' }))
      const changed = await outbox.updateEndpoint('ep_b', (e) => ({
        ...e,
        consecutiveFailures: e.consecutiveFailures + 1,
      }))
      expect(changed?.consecutiveFailures).toBe(1)
      expect((await outbox.endpoint('ep_b'))?.consecutiveFailures).toBe(1)
      expect(await outbox.updateEndpoint('ep_none', (e) => e)).toBeNull()

      await outbox.enqueue([deliveryRecord('ep_b', 1), deliveryRecord('ep_a', 2)])
      await outbox.deleteEndpoint('ep_b')
      expect(await outbox.endpoint('ep_b')).toBeNull()
      expect(await outbox.deliveries('ep_b', 10)).toEqual([])
      expect((await outbox.due(10, T)).map((entry) => entry.endpointId)).toEqual(['ep_a'])
      expect(await outbox.countPending()).toEqual(new Map([['ep_a', 1]]))
    })

    it('[R44] queues deliveries: due in time order, logged newest first, counted', async () => {
      const late = deliveryRecord('ep_a', 1, T + 2_000)
      const early = deliveryRecord('ep_a', 2, T)
      await outbox.enqueue([late, early])
      expect(await outbox.due(10, T)).toEqual([
        { at: T, endpointId: 'ep_a', deliveryId: early.id },
        { at: T + 2_000, endpointId: 'ep_a', deliveryId: late.id },
      ])
      expect(await outbox.due(1, T)).toHaveLength(1)
      expect(await outbox.deliveries('ep_a', 10)).toEqual([early, late])
      expect(await outbox.deliveries('ep_a', 1)).toEqual([early])
      expect(await outbox.delivery('ep_a', late.id)).toEqual(late)
      expect(await outbox.delivery('ep_a', 'msg_none')).toBeNull()
      expect(await outbox.countPending()).toEqual(new Map([['ep_a', 2]]))
      expect(await outbox.countLogged()).toEqual(new Map([['ep_a', 2]]))
    })

    it('[R44] an attempt claims a delivery only while it is pending, on its current entry, and due', async () => {
      const queued = deliveryRecord('ep_a', 1)
      await outbox.enqueue([queued])
      const [first] = await outbox.due(10, T)
      const claim = await outbox.claim(first!, T, LEASE_MS)
      expect(claim).toMatchObject({ kind: 'due', delivery: queued })
      // Held: nobody claims it again, and it is not due, until the attempt is recorded.
      expect((await outbox.claim(first!, T + 1, LEASE_MS)).kind).not.toBe('due')
      expect((await outbox.due(10, T + 1)).filter((entry) => entry.at <= T + 1)).toEqual([])

      const retrying = attempted(queued, { kind: 'pending', nextAttemptAt: T + 5_000, failures: 1 })
      expect(await outbox.record(ticketOf(claim), retrying)).toEqual({ kind: 'recorded', endpoint: null })
      expect(await outbox.claim(first!, T + 10, LEASE_MS)).toEqual({ kind: 'stale' })
      const [retry] = await outbox.due(10, T + 10)
      expect(retry).toEqual({ at: T + 5_000, endpointId: 'ep_a', deliveryId: queued.id })
      expect(await outbox.claim(retry!, T + 4_999, LEASE_MS)).toEqual({ kind: 'not-due' })
      const again = await outbox.claim(retry!, T + 5_000, LEASE_MS)
      expect(again).toMatchObject({ kind: 'due', delivery: retrying })

      const delivered = attempted(retrying, { kind: 'delivered', at: T + 5_000, status: 200 })
      await outbox.record(ticketOf(again), delivered)
      expect(await outbox.claim(retry!, T + 6_000, LEASE_MS)).toEqual({ kind: 'stale' })
      expect(await outbox.due(10, T + 6_000)).toEqual([])
      expect(await outbox.delivery('ep_a', queued.id)).toEqual(delivered)
      expect(await outbox.countPending()).toEqual(new Map())
    })

    it('[R67] a claim runs out after its lease: the delivery is claimed again and the late outcome is not recorded', async () => {
      const queued = deliveryRecord('ep_a', 1)
      await outbox.enqueue([queued])
      const first = ticketOf(await outbox.claim((await outbox.due(10, T))[0]!, T, LEASE_MS))
      const afterLease = T + LEASE_MS + 1
      const [expired] = (await outbox.due(10, afterLease)).filter((entry) => entry.at <= afterLease)
      expect(expired?.deliveryId).toBe(queued.id)
      const second = ticketOf(await outbox.claim(expired!, afterLease, LEASE_MS))
      const late = attempted(queued, {
        kind: 'failed',
        at: afterLease,
        reason: { kind: 'rejected', status: 400 },
      })
      expect(await outbox.record(first, late)).toEqual({ kind: 'lost' })
      await outbox.release(first)
      const delivered = attempted(queued, { kind: 'delivered', at: afterLease, status: 200 })
      expect(await outbox.record(second, delivered, (e) => ({ ...e, consecutiveFailures: 0 }))).toEqual({
        kind: 'recorded',
        endpoint: endpointRecord('ep_a'),
      })
      expect(await outbox.delivery('ep_a', queued.id)).toEqual(delivered)
    })

    it('[R67] a released claim leaves the delivery due at once, as it was', async () => {
      const queued = deliveryRecord('ep_a', 1)
      await outbox.enqueue([queued])
      const ticket = ticketOf(await outbox.claim((await outbox.due(10, T))[0]!, T, LEASE_MS))
      await outbox.release(ticket)
      const [entry] = await outbox.due(10, T + 1)
      expect(entry!.at).toBeLessThanOrEqual(T + 1)
      const again = await outbox.claim(entry!, T + 1, LEASE_MS)
      expect(again).toMatchObject({ kind: 'due', delivery: queued })
      // The old ticket neither releases nor records the new claim.
      await outbox.release(ticket)
      expect(await outbox.record(ticket, queued)).toEqual({ kind: 'lost' })
      expect((await outbox.record(ticketOf(again), queued)).kind).toBe('recorded')
    })

    it('[R41] an outcome recorded after its endpoint was removed is lost; an entry without endpoint is dropped', async () => {
      const queued = deliveryRecord('ep_a', 1)
      await outbox.enqueue([queued])
      const [entry] = await outbox.due(10, T)
      const ticket = ticketOf(await outbox.claim(entry!, T, LEASE_MS))
      await outbox.deleteEndpoint('ep_a')
      expect(
        await outbox.record(ticket, attempted(queued, { kind: 'delivered', at: T, status: 200 })),
      ).toEqual({
        kind: 'lost',
      })
      expect(await outbox.delivery('ep_a', queued.id)).toBeNull()
      await outbox.dropDue(entry!)
      expect(await outbox.due(10, T + LEASE_MS + 1)).toEqual([])
    })

    it('[R45] fails a disabled endpoint’s pending deliveries, except one an attempt holds', async () => {
      const [held, waiting, other] = [
        deliveryRecord('ep_a', 1),
        deliveryRecord('ep_a', 2),
        deliveryRecord('ep_b', 3),
      ]
      await outbox.putEndpoint(endpointRecord('ep_b'))
      await outbox.enqueue([held, waiting, other])
      const entry = (await outbox.due(10, T)).find((e) => e.deliveryId === held.id)
      const ticket = ticketOf(await outbox.claim(entry!, T, LEASE_MS))
      expect(await outbox.failPending('ep_a', T + 1)).toBe(1)
      expect((await outbox.delivery('ep_a', waiting.id))?.state).toEqual({
        kind: 'failed',
        at: T + 1,
        reason: { kind: 'endpoint-disabled' },
      })
      expect((await outbox.delivery('ep_b', other.id))?.state.kind).toBe('pending')
      const failed = attempted(held, { kind: 'failed', at: T + 2, reason: { kind: 'endpoint-disabled' } })
      expect((await outbox.record(ticket, failed)).kind).toBe('recorded')
      expect(await outbox.countPending()).toEqual(new Map([['ep_b', 1]]))
    })

    it('[R46] replays a failed delivery only: same id and body, a fresh retry budget, due now', async () => {
      const queued = deliveryRecord('ep_a', 1)
      await outbox.enqueue([queued])
      expect(await outbox.replay('ep_a', queued.id, T)).toBeNull()
      await outbox.failPending('ep_a', T)
      const replayed = await outbox.replay('ep_a', queued.id, T + 100)
      expect(replayed).toEqual({ ...queued, state: { kind: 'pending', nextAttemptAt: T + 100, failures: 0 } })
      expect(await outbox.replay('ep_a', queued.id, T + 200)).toBeNull()
      expect(await outbox.due(10, T + 100)).toEqual([
        { at: T + 100, endpointId: 'ep_a', deliveryId: queued.id },
      ])
    })

    it('[R44] prunes the oldest settled deliveries beyond the limit, never a pending one', async () => {
      const records = [1, 2, 3, 4, 5].map((n) => deliveryRecord('ep_a', n))
      await outbox.enqueue(records)
      for (const record of records.slice(1)) {
        const entry = (await outbox.due(10, T)).find((e) => e.deliveryId === record.id)
        const ticket = ticketOf(await outbox.claim(entry!, T, LEASE_MS))
        await outbox.record(ticket, attempted(record, { kind: 'delivered', at: T, status: 200 }))
      }
      expect(await outbox.prune('ep_a', 2)).toBe(2)
      expect((await outbox.deliveries('ep_a', 10)).map((d) => d.id)).toEqual([records[4]!.id, records[0]!.id])
    })

    it('[R41] an event’s endpoint changes (revocations) apply to the endpoints as stored', async () => {
      await outbox.putEndpoint(endpointRecord('ep_b', { source: 'edit-token', docId: 'doc1' }))
      const revoked = { kind: 'revoked', at: T, reason: 'links reset' } as const
      const delivery = deliveryRecord('ep_b', 1)
      expect(
        await outbox.enqueue([delivery], {
          endpointChanges: [
            { endpointId: 'ep_b', change: (e) => ({ ...e, status: revoked }) },
            { endpointId: 'ep_gone', change: (e) => e },
          ],
        }),
      ).toBe('queued')
      expect((await outbox.endpoint('ep_b'))?.status).toEqual(revoked)
      expect(await outbox.delivery('ep_b', delivery.id)).toEqual(delivery)
    })

    it('[R40] an open window survives a restart and is closed by the event it queues', async ({ skip }) => {
      await outbox.saveWindow(window, T)
      await outbox.saveWindow({ ...window, contributors: ['Ada', '', 'Bo'] }, T)
      // This process holds it: nothing to adopt.
      expect(await outbox.adoptWindows(T)).toEqual([])
      if (!harness.reopen) return skip('no restart: the store lives in memory')
      outbox = await harness.reopen()
      const adopted = await outbox.adoptWindows(T + HOUR_MS)
      expect(adopted).toEqual([{ ...window, contributors: ['Ada', '', 'Bo'] }])
      expect(await outbox.adoptWindows(T + HOUR_MS)).toEqual([])
      expect(await outbox.enqueue([deliveryRecord('ep_a', 1)], { closedWindow: adopted[0]! })).toBe('queued')
      outbox = await harness.reopen()
      expect(await outbox.adoptWindows(T + 2 * HOUR_MS)).toEqual([])
      expect(await outbox.countPending()).toEqual(new Map([['ep_a', 1]]))
    })

    it('[R40] a deleted window is not reopened', async ({ skip }) => {
      if (!harness.reopen) return skip('no restart: the store lives in memory')
      await outbox.saveWindow(window, T)
      await outbox.deleteWindow(window)
      outbox = await harness.reopen()
      expect(await outbox.adoptWindows(T + HOUR_MS)).toEqual([])
    })

    describe('across nodes (a store other processes share)', () => {
      let other: OutboxStore
      beforeEach(async ({ skip }) => {
        if (!harness.peer) return skip('one process only: LevelDB holds a lock, memory is private')
        other = await harness.peer()
      })

      it('[R67] every node reads the endpoints another wrote, and each delivery is claimed once between them', async () => {
        await outbox.putEndpoint(endpointRecord('ep_b'))
        expect((await other.endpoints()).map((e) => e.id).sort()).toEqual(['ep_a', 'ep_b'])
        const records = Array.from({ length: 20 }, (_, n) => deliveryRecord(n % 2 ? 'ep_a' : 'ep_b', n))
        await outbox.enqueue(records)
        const entries = await other.due(100, T)
        expect(entries).toHaveLength(20)
        const claims = await Promise.all(
          entries.flatMap((entry) => [outbox.claim(entry, T, LEASE_MS), other.claim(entry, T, LEASE_MS)]),
        )
        const claimed = claims.flatMap((claim) => (claim.kind === 'due' ? [claim.delivery.id] : []))
        expect(claimed.sort()).toEqual(records.map((record) => record.id).sort())
      })

      it('[R67] a window whose node stopped renewing its hold is adopted by another; the stalled node queues nothing for it', async () => {
        await outbox.saveWindow(window, T)
        expect(await other.adoptWindows(T + 1)).toEqual([])
        await outbox.holdWindows(T + 20_000)
        expect(await other.adoptWindows(T + 40_000)).toEqual([])
        const [adopted] = await other.adoptWindows(T + 60_000)
        expect(adopted).toEqual(window)
        expect(await outbox.enqueue([deliveryRecord('ep_a', 1)], { closedWindow: window })).toBe(
          'window-taken',
        )
        expect(await other.countPending()).toEqual(new Map())
        expect(await other.enqueue([deliveryRecord('ep_a', 2)], { closedWindow: adopted! })).toBe('queued')
        expect(await outbox.countPending()).toEqual(new Map([['ep_a', 1]]))
      })

      it('[R67] a node that closes lets go of its windows: another adopts them at once', async () => {
        await outbox.saveWindow(window, T)
        await outbox.releaseWindows()
        expect(await other.adoptWindows(T)).toEqual([window])
      })
    })
  })
}
