import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DEFAULT_RETRY_POLICY } from '../../src/webhooks/backoff.ts'
import { LevelOutboxStore } from '../../src/webhooks/LevelOutboxStore.ts'
import type { DeliveryRecord } from '../../src/webhooks/types.ts'
import { eventually } from './support/clients.ts'
import { deliveryLog, startReceiver, startWebhookHarness, type ReceivedWebhook } from './support/webhooks.ts'

const EVENTS = 10
/** The shortest first retry the production schedule allows: 5 s × (1 − 25 % jitter). */
const MIN_FIRST_RETRY_MS = DEFAULT_RETRY_POLICY.baseDelayMs * (1 - DEFAULT_RETRY_POLICY.jitter)
/** The longest, plus room for a loaded machine. */
const MAX_FIRST_RETRY_MS = DEFAULT_RETRY_POLICY.baseDelayMs * (1 + DEFAULT_RETRY_POLICY.jitter) + 2_000

describe('webhook retries under concurrency', () => {
  // Issue 13, item 7: with many attempts finishing at once, a pass could start a delivery again
  // from a queue entry it read while that delivery's attempt was still out — the retry went out a
  // few ms after the 503 instead of about 5 s later, and the first retry's wait was lost.
  it('[R44] deliveries finishing together each wait their backoff before the first retry', async () => {
    const harness = await startWebhookHarness({ config: { retry: DEFAULT_RETRY_POLICY } })
    const healthy = await startReceiver()
    const flaky = await startReceiver()
    // 503 to the first request of each delivery, 200 to the rest.
    const seen = new Set<string>()
    flaky.respond = (index) => {
      const id = String(flaky.received[index]?.headers['webhook-id'])
      if (seen.has(id)) return 200
      seen.add(id)
      return 503
    }
    const healthyEndpoint = await harness.register({ url: healthy.url, events: ['links.reset'] })
    const flakyEndpoint = await harness.register({ url: flaky.url, events: ['links.reset'] })
    healthy.secret = healthyEndpoint.secret
    flaky.secret = flakyEndpoint.secret
    const docs = await Promise.all(Array.from({ length: EVENTS }, () => harness.createDoc()))

    await Promise.all(docs.map((doc) => harness.resetLinks(doc.id)))

    await healthy.waitFor(EVENTS)
    await flaky.waitFor(2 * EVENTS, MAX_FIRST_RETRY_MS + 2_000)
    await eventually(async () =>
      expect((await deliveryLog(harness, flakyEndpoint.id)).map((d) => [d.status, d.attempts])).toEqual(
        Array.from({ length: EVENTS }, () => ['delivered', 2]),
      ),
    )
    expect(healthy.received).toHaveLength(EVENTS)
    expect(flaky.received).toHaveLength(2 * EVENTS)

    // Per delivery: the 503, then one retry no sooner than the backoff allows (PROTOCOL §9.4).
    const byId = new Map<string, ReceivedWebhook[]>()
    for (const request of flaky.received) {
      const id = String(request.headers['webhook-id'])
      byId.set(id, [...(byId.get(id) ?? []), request])
    }
    expect(byId.size).toBe(EVENTS)
    const gapsMs = [...byId.values()].map(
      ([first, retry]) => (retry?.receivedAt ?? 0) - (first?.receivedAt ?? 0),
    )
    for (const gapMs of gapsMs) {
      expect(gapMs, `gaps between the 503 and the retry: ${gapsMs.join(', ')} ms`).toBeGreaterThanOrEqual(
        MIN_FIRST_RETRY_MS,
      )
      expect(gapMs).toBeLessThanOrEqual(MAX_FIRST_RETRY_MS)
    }
    expect(flaky.received.every((request) => request.isVerified)).toBe(true)
  }, 15_000)

  it('[R44] an attempt claims a delivery only while it is pending, on its current entry, and due', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-outbox-'))
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
    onTestFinished(async () => {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    })
    const webhooksDb = db.sublevel<string, string>('webhooks', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const outbox = new LevelOutboxStore(webhooksDb, false)
    const leaseMs = 60_000
    const t = 1_700_000_000_000
    const queued: DeliveryRecord = {
      id: 'msg_0000000000010123456789abcdef0123',
      endpointId: 'ep_a',
      type: 'links.reset',
      docId: 'doc1',
      body: '{}',
      createdAt: t,
      attempts: 0,
      lastAttempt: null,
      state: { kind: 'pending', nextAttemptAt: t, failures: 0 },
    }
    await outbox.enqueue([queued])
    const [first] = await outbox.due(10, t)
    const claimed = await outbox.claim(first!, t, leaseMs)
    expect(claimed).toMatchObject({ kind: 'due', delivery: queued })
    if (claimed.kind !== 'due') return

    // The attempt answers 503 and records its retry while a pass still holds the entry it read.
    const retrying: DeliveryRecord = {
      ...queued,
      attempts: 1,
      lastAttempt: { at: t, durationMs: 5, result: 'HTTP 503' },
      state: { kind: 'pending', nextAttemptAt: t + 5_000, failures: 1 },
    }
    expect(await outbox.record(claimed.ticket, retrying)).toEqual({ kind: 'recorded', endpoint: null })
    expect(await outbox.claim(first!, t + 10, leaseMs)).toEqual({ kind: 'stale' })
    const [retry] = await outbox.due(10, t + 10)
    expect(retry).toEqual({ at: t + 5_000, endpointId: 'ep_a', deliveryId: queued.id })
    expect(await outbox.claim(retry!, t + 4_999, leaseMs)).toEqual({ kind: 'not-due' })
    const reclaimed = await outbox.claim(retry!, t + 5_000, leaseMs)
    expect(reclaimed).toMatchObject({ kind: 'due', delivery: retrying })
    if (reclaimed.kind !== 'due') return

    // Settled: nothing to send from either entry, and nothing left queued.
    const delivered: DeliveryRecord = {
      ...retrying,
      attempts: 2,
      state: { kind: 'delivered', at: t, status: 200 },
    }
    await outbox.record(reclaimed.ticket, delivered)
    expect(await outbox.claim(retry!, t + 6_000, leaseMs)).toEqual({ kind: 'stale' })
    expect(await outbox.due(10, t + 6_000)).toEqual([])

    // An entry with no pending delivery behind it is dropped, so passes do not find it again.
    await webhooksDb.put(`due!${String(t).padStart(15, '0')}!ep_a!msg_gone`, '')
    const [orphan] = await outbox.due(10, t)
    expect(await outbox.claim(orphan!, t, leaseMs)).toEqual({ kind: 'orphan' })
    expect(await outbox.due(10, t)).toEqual([])
  })
})
