import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_POLICY, judge, nominalDelayMs, retryDelayMs } from '../../src/webhooks/backoff.ts'
import { eventually } from './support/clients.ts'
import { deliveryLog, startReceiver, startWebhookHarness, type DeliveryView } from './support/webhooks.ts'

describe('webhook retries', () => {
  it('[R44] a receiver that fails twice then succeeds gets the same webhook-id three times, each signed', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const { id, secret } = await harness.register({ url: receiver.url, events: ['document.created'] })
    receiver.secret = secret
    receiver.respond = (index) => (index < 2 ? 503 : 204)
    await harness.createDoc()
    const received = await receiver.waitFor(3)
    const ids = received.map((r) => r.headers['webhook-id'])
    expect(new Set(ids).size).toBe(1)
    expect(received.every((r) => r.isVerified)).toBe(true)
    expect(new Set(received.map((r) => r.body)).size).toBe(1)
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({
        id: ids[0],
        status: 'delivered',
        attempts: 3,
        lastResult: 'HTTP 204',
        nextAttemptAt: null,
      }),
    )
    // The retries waited: backoff, not a tight loop.
    const [a, b, c] = received.map((r) => r.receivedAt)
    expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(70)
    expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(140)
  })

  it('[R44] 408, 429, 5xx, redirects, timeouts and refused connections are retried; other 4xx stop at once', async () => {
    const harness = await startWebhookHarness({ config: { timeoutMs: 300 } })
    const receiver = await startReceiver()
    const sequence: Array<number | 'hang'> = [408, 429, 500, 302, 'hang', 200]
    receiver.respond = (index) => sequence[index] ?? 200
    receiver.responseHeaders = { location: 'http://127.0.0.1:1/elsewhere' }
    const retried = await harness.register({ url: receiver.url, events: ['document.created'] })
    await harness.createDoc()
    await receiver.waitFor(6, 15_000)
    await eventually(async () =>
      expect((await deliveryLog(harness, retried.id))[0]).toMatchObject({ status: 'delivered', attempts: 6 }),
    )
    await harness.api(`/api/webhooks/${retried.id}`, { method: 'DELETE' })

    for (const status of [400, 401, 403, 404, 410, 413, 422]) {
      const stopper = await startReceiver()
      stopper.respond = () => status
      const { id } = await harness.register({ url: stopper.url, events: ['document.created'] })
      await harness.createDoc()
      await eventually(async () =>
        expect((await deliveryLog(harness, id))[0]).toMatchObject({
          status: 'failed',
          attempts: 1,
          failedReason: `rejected by the receiver (HTTP ${status})`,
        }),
      )
      expect(stopper.received).toHaveLength(1)
      await harness.api(`/api/webhooks/${id}`, { method: 'DELETE' })
    }
  })

  it('[R44] a connection error and a timeout are logged as such and retried', async () => {
    const harness = await startWebhookHarness({ config: { timeoutMs: 200 } })
    const closedPort = await startReceiver()
    const url = closedPort.url
    const receiver = await startReceiver()
    receiver.respond = () => 'hang'
    const refused = await harness.register({
      url: url.replace(/:\d+\//, ':1/'),
      events: ['document.created'],
    })
    const hanging = await harness.register({ url: receiver.url, events: ['document.created'] })
    await harness.createDoc()
    await eventually(async () => {
      const [delivery] = await deliveryLog(harness, refused.id)
      expect(delivery?.lastResult).toBe('connection error: ECONNREFUSED')
      expect(delivery?.status).toBe('pending')
      expect(delivery?.nextAttemptAt).not.toBeNull()
    })
    await eventually(async () =>
      expect((await deliveryLog(harness, hanging.id))[0]?.lastResult).toBe('timeout after 200 ms'),
    )
  })

  it('[R44] a delivery that keeps failing gives up after the last retry, and says so', async () => {
    const harness = await startWebhookHarness({
      config: { retry: { baseDelayMs: 20, factor: 2, maxDelayMs: 100, maxRetries: 3, jitter: 0.25 } },
    })
    const receiver = await startReceiver()
    receiver.respond = () => 502
    const { id } = await harness.register({ url: receiver.url, events: ['document.created'] })
    await harness.createDoc()
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({
        status: 'failed',
        attempts: 4,
        failedReason: 'gave up after 4 attempts',
        lastResult: 'HTTP 502',
      }),
    )
    expect(receiver.received).toHaveLength(4)
  })

  it('[R44] a restart during backoff neither loses the delivery nor sends it under a new id', async () => {
    let harness = await startWebhookHarness({
      config: { retry: { baseDelayMs: 1_500, factor: 2, maxDelayMs: 10_000, maxRetries: 5, jitter: 0 } },
    })
    const receiver = await startReceiver()
    const { id, secret } = await harness.register({ url: receiver.url, events: ['document.created'] })
    receiver.secret = secret
    receiver.respond = (index) => (index === 0 ? 503 : 200)
    await harness.createDoc()
    let pending: DeliveryView | undefined
    await eventually(async () => {
      pending = (await deliveryLog(harness, id))[0]
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastResult: 'HTTP 503' })
    })

    // Stop everything (database closed) while the retry waits, and start again on the same data.
    harness = await harness.restart()
    const afterRestart = await deliveryLog(harness, id)
    expect(afterRestart).toEqual([pending])

    const [first, second] = await receiver.waitFor(2)
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    expect(second?.headers['webhook-id']).toBe(pending?.id)
    expect(second?.isVerified).toBe(true)
    // Not before the scheduled time: the backoff survived the restart too.
    expect(second?.receivedAt ?? 0).toBeGreaterThanOrEqual(Date.parse(pending?.nextAttemptAt ?? '') - 5)
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({ status: 'delivered', attempts: 2 }),
    )
    // Exactly once more, and nothing else queued under another id.
    expect(receiver.received).toHaveLength(2)
    expect(await deliveryLog(harness, id)).toHaveLength(1)
  })

  it('[R44] a send cut off by shutdown is sent again after the restart, with the same id', async () => {
    let harness = await startWebhookHarness({ config: { timeoutMs: 10_000 } })
    const receiver = await startReceiver()
    const { id } = await harness.register({ url: receiver.url, events: ['document.created'] })
    receiver.respond = (index) => (index === 0 ? 'hang' : 200)
    await harness.createDoc()
    await receiver.waitFor(1)
    harness = await harness.restart()
    const [first, second] = await receiver.waitFor(2)
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({ status: 'delivered', attempts: 1 }),
    )
  })
})

describe('webhook endpoints that keep failing', () => {
  it('[R45] an endpoint is disabled after a long run of failures; its listing says so; enabling resumes', async () => {
    const harness = await startWebhookHarness({
      config: {
        disableAfterFailures: 3,
        disableAfterMs: 0,
        retry: { baseDelayMs: 20, factor: 1, maxDelayMs: 20, maxRetries: 100, jitter: 0 },
      },
    })
    const receiver = await startReceiver()
    let isDown = true
    receiver.respond = () => (isDown ? 500 : 200)
    const { id } = await harness.register({ url: receiver.url, events: ['document.created', 'links.reset'] })
    const doc = await harness.createDoc()
    await harness.createDoc()

    await eventually(async () => {
      const view = (await (await harness.api(`/api/webhooks/${id}`)).json()) as Record<string, unknown>
      expect(view).toMatchObject({ status: 'disabled', pendingDeliveries: 0 })
      // The two deliveries are sent in parallel: one attempt may still land after the third failure.
      expect(view.consecutiveFailures).toBeGreaterThanOrEqual(3)
      expect(view.statusReason).toMatch(/^3 attempts in a row failed since \d{4}-/)
      expect(view.failingSince).not.toBeNull()
    })
    expect(harness.logs.some((entry) => entry.level === 'warn' && entry.message.includes('disabled'))).toBe(
      true,
    )
    const log = await deliveryLog(harness, id)
    expect(log.map((d) => d.status)).toEqual(['failed', 'failed'])
    expect(log.every((d) => d.failedReason === 'endpoint disabled')).toBe(true)
    const sentWhileFailing = receiver.received.length
    expect([3, 4]).toContain(sentWhileFailing)

    // Disabled: nothing is sent or queued, and replays wait for an explicit enable.
    await harness.resetLinks(doc.id)
    expect((await deliveryLog(harness, id)).length).toBe(2)
    const replayRefused = await harness.api(`/api/webhooks/${id}/deliveries/${log[0]?.id}/replay`, {
      method: 'POST',
    })
    expect(replayRefused.status).toBe(409)

    isDown = false
    const enabled = await harness.api(`/api/webhooks/${id}/enable`, { method: 'POST' })
    expect(await enabled.json()).toMatchObject({
      status: 'active',
      consecutiveFailures: 0,
      failingSince: null,
    })
    for (const delivery of log) {
      const replay = await harness.api(`/api/webhooks/${id}/deliveries/${delivery.id}/replay`, {
        method: 'POST',
      })
      expect(replay.status).toBe(202)
    }
    await eventually(async () =>
      expect((await deliveryLog(harness, id)).map((d) => d.status)).toEqual(['delivered', 'delivered']),
    )
    expect(receiver.received.length).toBe(sentWhileFailing + 2)
  })

  it('[R45] a run must also last WEBHOOK_DISABLE_AFTER_MS: a burst of failures alone does not disable', async () => {
    const harness = await startWebhookHarness({
      config: {
        disableAfterFailures: 2,
        disableAfterMs: 60 * 60 * 1000,
        retry: { baseDelayMs: 20, factor: 1, maxDelayMs: 20, maxRetries: 3, jitter: 0 },
      },
    })
    const receiver = await startReceiver()
    receiver.respond = () => 500
    const { id } = await harness.register({ url: receiver.url, events: ['document.created'] })
    await harness.createDoc()
    await eventually(async () => expect((await deliveryLog(harness, id))[0]?.status).toBe('failed'))
    expect(await (await harness.api(`/api/webhooks/${id}`)).json()).toMatchObject({
      status: 'active',
      consecutiveFailures: 4,
    })
  })
})

describe('backoff schedule', () => {
  it('[R44] the default schedule retries for about a day, ×4 up to a 4 h cap, with ±25 % jitter', () => {
    const nominal = Array.from({ length: DEFAULT_RETRY_POLICY.maxRetries }, (_, i) =>
      nominalDelayMs(DEFAULT_RETRY_POLICY, i + 1),
    )
    expect(nominal.slice(0, 6)).toEqual([5_000, 20_000, 80_000, 320_000, 1_280_000, 5_120_000])
    expect(nominal.slice(6).every((delay) => delay === 4 * 3600_000)).toBe(true)
    const totalHours = nominal.reduce((sum, delay) => sum + delay, 0) / 3600_000
    expect(totalHours).toBeGreaterThan(24)
    expect(totalHours).toBeLessThan(27)
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0)).toBe(3_750)
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0.999_999)).toBe(6_250)
  })

  it('[R44] which outcomes are retried', () => {
    const status = (code: number) => judge({ kind: 'response', status: code, retryAfterMs: null }).kind
    expect([200, 201, 204, 299].map(status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered'])
    expect([408, 429, 500, 502, 503, 504, 301, 302, 307].map(status).every((k) => k === 'retry')).toBe(true)
    expect([400, 401, 403, 404, 405, 409, 410, 413, 422].map(status).every((k) => k === 'rejected')).toBe(
      true,
    )
    expect(judge({ kind: 'timeout', afterMs: 10 }).kind).toBe('retry')
    expect(judge({ kind: 'network', code: 'ECONNRESET' }).kind).toBe('retry')
  })
})
