import { describe, expect, it } from 'vitest'
import { UpdateDebouncer, type OpenWindow } from '../../src/webhooks/debounce.ts'
import { eventually } from './support/clients.ts'
import { FakeClock, deliveryLog, startReceiver, startWebhookHarness } from './support/webhooks.ts'

const QUIET_MS = 2_000
const MAX_WAIT_MS = 10_000
const KEYSTROKE_MS = 200

/** Types into one document every 200 ms for `durationMs` on a fake clock; returns each close. */
function typeContinuously(durationMs: number): {
  closes: Array<{ at: number; window: OpenWindow }>
  lastKeystroke: number
} {
  const clock = new FakeClock(0)
  const closes: Array<{ at: number; window: OpenWindow }> = []
  const debouncer = new UpdateDebouncer(
    { quietMs: QUIET_MS, maxWaitMs: MAX_WAIT_MS, maxContributors: 50, clock },
    (window) => closes.push({ at: clock.now(), window }),
  )
  let lastKeystroke = 0
  for (let t = 0; t < durationMs; t += KEYSTROKE_MS) {
    lastKeystroke = clock.now()
    debouncer.touch('doc', [t % 400 === 0 ? 'Ada' : 'Grace'])
    clock.advance(KEYSTROKE_MS)
  }
  clock.advance(60_000)
  return { closes, lastKeystroke }
}

describe('document.updated debounce', () => {
  it('[R40] typing every 200 ms for 5 s gives one update, 2 s after the last keystroke', () => {
    const { closes, lastKeystroke } = typeContinuously(5_000)
    expect(closes.map((c) => c.at)).toEqual([lastKeystroke + QUIET_MS])
    expect(closes[0]?.window.firstAt).toBe(0)
    expect([...(closes[0]?.window.contributors ?? [])]).toEqual(['Ada', 'Grace'])
  })

  it('[R40] typing without pause for 25 s gives an update every 10 s at most, then one 2 s after the end', () => {
    const { closes, lastKeystroke } = typeContinuously(25_000)
    expect(closes.map((c) => c.at)).toEqual([10_000, 20_000, lastKeystroke + QUIET_MS])
    for (const { at, window } of closes) expect(at - window.firstAt).toBeLessThanOrEqual(MAX_WAIT_MS)
    // Never two updates of one document within the quiet period.
    for (let i = 1; i < closes.length; i++)
      expect((closes[i]?.at ?? 0) - (closes[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(QUIET_MS)
  })

  it('[R40] documents are debounced independently', () => {
    const clock = new FakeClock(0)
    const closes: string[] = []
    const debouncer = new UpdateDebouncer(
      { quietMs: QUIET_MS, maxWaitMs: MAX_WAIT_MS, maxContributors: 50, clock },
      (window) => closes.push(`${window.docId}@${clock.now()}`),
    )
    debouncer.touch('a', [''])
    clock.advance(1_000)
    debouncer.touch('b', [''])
    clock.advance(10_000)
    expect(closes).toEqual(['a@2000', 'b@3000'])
  })

  it('[R40] over real time and a real receiver: continuous edits give updates bounded by the maximum wait', async () => {
    const quietMs = 300
    const maxWaitMs = 1_500
    const harness = await startWebhookHarness({
      config: { debounceQuietMs: quietMs, debounceMaxWaitMs: maxWaitMs },
    })
    const receiver = await startReceiver()
    const { secret } = await harness.register({ url: receiver.url, events: ['document.updated'] })
    receiver.secret = secret
    const doc = await harness.createDoc()

    const firstChangeAt = Date.now()
    const typingUntil = firstChangeAt + 3_000
    let edits = 0
    let lastChangeAt = firstChangeAt
    while (Date.now() < typingUntil) {
      await harness.persist(doc.id, [edits % 2 === 0 ? 'Ada' : 'Grace'])
      lastChangeAt = Date.now()
      edits++
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const finalVersion = (await harness.docs.getMeta(doc.id))?.version
    // Wait for the update that reports the final version: the condition, not a guessed delay.
    await receiver.waitFor(1)
    await expect
      .poll(() => receiver.received.at(-1)?.payload.data.version, { timeout: 5_000, interval: 10 })
      .toBe(finalVersion)

    const updates = receiver.received
    expect(updates.every((u) => u.isVerified && u.payload.type === 'document.updated')).toBe(true)
    // 3 s of typing with a 1.5 s maximum wait: two updates during the typing, one after it.
    expect(updates.length).toBeGreaterThanOrEqual(2)
    expect(updates.length).toBeLessThanOrEqual(4)
    expect((updates[0]?.receivedAt ?? 0) - firstChangeAt).toBeLessThan(maxWaitMs + 1_000)
    for (let i = 1; i < updates.length; i++) {
      const gap = (updates[i]?.receivedAt ?? 0) - (updates[i - 1]?.receivedAt ?? 0)
      expect(gap).toBeGreaterThanOrEqual(quietMs - 50)
      expect(gap).toBeLessThan(maxWaitMs + 1_000)
    }
    // The last change is reported within the quiet period (or sooner, when the maximum wait fell
    // right after it).
    expect(updates.at(-1)?.receivedAt ?? 0).toBeGreaterThanOrEqual(lastChangeAt)
    expect(updates.at(-1)?.receivedAt ?? 0).toBeLessThan(lastChangeAt + quietMs + 1_000)
    // Each update names the editors of its own window; versions only grow.
    const versions = updates.map((u) => Number(u.payload.data.version))
    expect([...versions].sort((a, b) => a - b)).toEqual(versions)
    expect(updates[0]?.payload.data.editors).toEqual(['Ada', 'Grace'])
  })

  it('[R40] an update still being debounced survives a restart and is reported after it', async () => {
    // A quiet period far longer than the test: the window cannot close before the restart.
    let harness = await startWebhookHarness({
      config: { debounceQuietMs: 60_000, debounceMaxWaitMs: 120_000 },
    })
    const receiver = await startReceiver()
    const { id, secret } = await harness.register({ url: receiver.url, events: ['document.updated'] })
    receiver.secret = secret
    const doc = await harness.createDoc()
    await harness.persist(doc.id, ['Ada'])
    await harness.persist(doc.id, ['Grace'])
    harness = await harness.restart({ config: { debounceQuietMs: 100, debounceMaxWaitMs: 1_000 } })
    const [update] = await receiver.waitFor(1)
    expect(update?.isVerified).toBe(true)
    expect(update?.payload.data).toMatchObject({ docId: doc.id, version: 2, editors: ['Ada', 'Grace'] })
    // Reported once: the window is gone from disk once its update is queued. (Wait until the
    // delivery is recorded, else the restart may cut it off and it is sent again — same id, R44.)
    await eventually(async () => expect((await deliveryLog(harness, id))[0]?.status).toBe('delivered'))
    harness = await harness.restart()
    await harness.createDoc()
    await harness.persist(doc.id, ['Linus'])
    const [, next] = await receiver.waitFor(2)
    expect(next?.payload.data).toMatchObject({ version: 3, editors: ['Linus'] })
    expect(receiver.received).toHaveLength(2)
  })

  it('[R40] a document deleted while its update is debounced reports only the deletion', async () => {
    const harness = await startWebhookHarness({ config: { debounceQuietMs: 200 } })
    const receiver = await startReceiver()
    await harness.register({ url: receiver.url, events: ['document.updated', 'document.deleted'] })
    const doc = await harness.createDoc()
    await harness.persist(doc.id)
    harness.events.emit({ type: 'document.deleted', docId: doc.id, at: Date.now() })
    const [deleted] = await receiver.waitFor(1)
    expect(deleted?.payload).toMatchObject({ type: 'document.deleted', data: { docId: doc.id } })
    // Another document's update, later, proves the quiet period has passed without one for this.
    const other = await harness.createDoc()
    await harness.persist(other.id)
    const [, update] = await receiver.waitFor(2)
    expect(update?.payload.data.docId).toBe(other.id)
    expect(receiver.received).toHaveLength(2)
  })
})
