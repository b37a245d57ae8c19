import { CLOSE_REASONS } from '@tandem/shared'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, fetchDocStatus, retryAfterMsOf, type DocStatus, type DocStatusReply } from '../src/api.ts'
import {
  HIDDEN_POLL_MS,
  VISIBLE_POLL_MS,
  etagOf,
  nextPollDelayMs,
  nextWatch,
  pollIntervalMs,
  watchDocStatus,
  type DocWatch,
  type VisibilitySource,
} from '../src/home/docWatch.ts'

const STATUS: DocStatus = {
  id: 'doc1',
  title: '',
  updatedAtMs: Date.parse('2025-01-02T03:04:05.000Z'),
  version: 3,
  viewers: 1,
  editorNames: ['Bob'],
  viewerNames: ['Vic'],
}
const BODY = {
  id: 'doc1',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-02T03:04:05.000Z',
  version: 3,
  storedBytes: 120,
  connections: 2,
  viewers: 1,
  editorNames: ['Bob'],
  viewerNames: ['Vic'],
}

describe('[R27] the poll interval', () => {
  it('is short while the tab is looked at and long while it is hidden', () => {
    expect(pollIntervalMs('visible')).toBe(VISIBLE_POLL_MS)
    expect(pollIntervalMs('hidden')).toBe(HIDDEN_POLL_MS)
    expect(VISIBLE_POLL_MS).toBe(3_000)
    expect(HIDDEN_POLL_MS).toBe(15_000)
  })

  it('waits longer when the server asks to with Retry-After (R34), never shorter', () => {
    const failing = (retryAfterMs: number | null): DocWatch => ({
      kind: 'failing',
      known: null,
      error: new ApiError('too many requests', CLOSE_REASONS.tooManyRequests, retryAfterMs),
      checkedAtMs: 0,
    })
    expect(nextPollDelayMs(failing(10_000), 'visible')).toBe(10_000)
    expect(nextPollDelayMs(failing(10_000), 'hidden')).toBe(HIDDEN_POLL_MS)
    expect(nextPollDelayMs(failing(1_000), 'visible')).toBe(VISIBLE_POLL_MS)
    expect(nextPollDelayMs(failing(null), 'visible')).toBe(VISIBLE_POLL_MS)
    expect(nextPollDelayMs({ kind: 'loading' }, 'hidden')).toBe(HIDDEN_POLL_MS)
  })

  it('reads Retry-After in seconds or as a date', () => {
    const now = Date.parse('2025-06-01T12:00:00Z')
    expect(retryAfterMsOf('10', now)).toBe(10_000)
    expect(retryAfterMsOf('Sun, 01 Jun 2025 12:00:05 GMT', now)).toBe(5_000)
    expect(retryAfterMsOf('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0)
    expect(retryAfterMsOf('soon', now)).toBeNull()
    expect(retryAfterMsOf(null, now)).toBeNull()
  })
})

describe('[R27] nextWatch', () => {
  const changed: DocStatusReply = { kind: 'changed', status: STATUS, etag: '"e1"' }
  const known = { status: STATUS, etag: '"e1"' }
  const live = nextWatch({ kind: 'loading' }, changed, 1_000)

  it('takes a 200 as the new status and its ETag as the next If-None-Match', () => {
    expect(live).toEqual({ kind: 'live', known, checkedAtMs: 1_000 })
    expect(etagOf({ kind: 'loading' })).toBeNull()
    expect(etagOf(live)).toBe('"e1"')
  })

  it('keeps the status on a 304 and only moves the time it was checked', () => {
    const next = nextWatch(live, { kind: 'unchanged' }, 4_000)
    expect(next).toEqual({ kind: 'live', known, checkedAtMs: 4_000 })
  })

  it('keeps what it knew through a failed refresh, and a later 304 confirms it', () => {
    const error = new ApiError('the server cannot be reached')
    const failing = nextWatch(live, { kind: 'failed', error }, 4_000)
    expect(failing).toEqual({ kind: 'failing', known, error, checkedAtMs: 4_000 })
    expect(etagOf(failing)).toBe('"e1"')
    expect(nextWatch(failing, { kind: 'unchanged' }, 7_000)).toMatchObject({
      kind: 'live',
      checkedAtMs: 7_000,
    })
  })

  it('treats a 304 with nothing known as an unexpected reply', () => {
    const next = nextWatch({ kind: 'loading' }, { kind: 'unchanged' }, 1_000)
    expect(next).toMatchObject({ kind: 'failing', known: null })
  })

  it('stops on a refusal that will not change (links reset, document gone), retries the rest', () => {
    const reset = new ApiError(CLOSE_REASONS.forbidden.text, CLOSE_REASONS.forbidden)
    expect(nextWatch(live, { kind: 'failed', error: reset }, 2_000).kind).toBe('stopped')
    const gone = new ApiError(CLOSE_REASONS.docNotFound.text, CLOSE_REASONS.docNotFound)
    expect(nextWatch(live, { kind: 'failed', error: gone }, 2_000).kind).toBe('stopped')
    const busy = new ApiError(CLOSE_REASONS.tooManyRequests.text, CLOSE_REASONS.tooManyRequests)
    expect(nextWatch(live, { kind: 'failed', error: busy }, 2_000).kind).toBe('failing')
    const proxyError = new ApiError('the server answered 502')
    expect(nextWatch(live, { kind: 'failed', error: proxyError }, 2_000).kind).toBe('failing')
  })
})

describe('[R27] fetchDocStatus', () => {
  it('asks conditionally past the HTTP cache and reads 200 and 304', async () => {
    const fetchImpl = vi.fn<typeof fetch>(() =>
      Promise.resolve(Response.json(BODY, { headers: { ETag: '"e1"', 'Cache-Control': 'no-cache' } })),
    )
    expect(await fetchDocStatus('doc1', 'E1', { etag: null, fetchImpl })).toEqual({
      kind: 'changed',
      status: STATUS,
      etag: '"e1"',
    })
    const [url, init] = fetchImpl.mock.calls[0] ?? []
    expect(url).toBe('/api/docs/doc1')
    expect(init?.cache).toBe('no-store')
    expect(init?.headers).toEqual({ Authorization: 'Bearer E1' })

    fetchImpl.mockResolvedValueOnce(new Response(null, { status: 304 }))
    expect(await fetchDocStatus('doc1', 'E1', { etag: '"e1"', fetchImpl })).toEqual({ kind: 'unchanged' })
    expect(fetchImpl.mock.calls[1]?.[1]?.headers).toEqual({
      Authorization: 'Bearer E1',
      'If-None-Match': '"e1"',
    })
  })

  it('rejects with the catalogue reason, or with what went wrong', async () => {
    const refused = fetchDocStatus('doc1', 'old', {
      etag: null,
      fetchImpl: () => Promise.resolve(Response.json({ error: 'x', code: 4403 }, { status: 403 })),
    })
    await expect(refused).rejects.toMatchObject({ reason: CLOSE_REASONS.forbidden })

    const offline = fetchDocStatus('doc1', 'E1', {
      etag: null,
      fetchImpl: () => Promise.reject(new TypeError('Failed to fetch')),
    })
    await expect(offline).rejects.toThrow('the server cannot be reached')

    const malformed = fetchDocStatus('doc1', 'E1', {
      etag: null,
      fetchImpl: () => Promise.resolve(Response.json({ ...BODY, editorNames: 'Bob' })),
    })
    await expect(malformed).rejects.toThrow('the server sent an unexpected reply')
  })
})

describe('[R27] watchDocStatus', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function fakeVisibility(initial: DocumentVisibilityState) {
    let state = initial
    const listeners = new Set<() => void>()
    const source: VisibilitySource = {
      state: () => state,
      onChange(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    }
    return {
      source,
      listeners,
      set(next: DocumentVisibilityState) {
        state = next
        for (const listener of listeners) listener()
      },
    }
  }

  it('polls every 3 s while visible, every 15 s while hidden, and at once on coming back', async () => {
    const visibility = fakeVisibility('visible')
    const etags: Array<string | null> = []
    const seen: DocWatch[] = []
    const dispose = watchDocStatus({
      poll: (etag) => {
        etags.push(etag)
        return Promise.resolve(
          etags.length === 1 ? { kind: 'changed', status: STATUS, etag: '"e1"' } : { kind: 'unchanged' },
        )
      },
      onChange: (watch) => seen.push(watch),
      visibility: visibility.source,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(etags).toEqual([null])
    await vi.advanceTimersByTimeAsync(VISIBLE_POLL_MS)
    expect(etags).toEqual([null, '"e1"'])

    visibility.set('hidden')
    // The wait already under way finishes; the next one is the hidden tab's.
    await vi.advanceTimersByTimeAsync(VISIBLE_POLL_MS)
    expect(etags).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(HIDDEN_POLL_MS - 1)
    expect(etags).toHaveLength(3)
    visibility.set('visible')
    await vi.advanceTimersByTimeAsync(0)
    expect(etags).toHaveLength(4)
    expect(seen.map((watch) => watch.kind)).toEqual(['live', 'live', 'live', 'live'])

    dispose()
    expect(visibility.listeners.size).toBe(0)
    await vi.advanceTimersByTimeAsync(10 * HIDDEN_POLL_MS)
    expect(etags).toHaveLength(4)
  })

  it('aborts the request in flight when disposed and reports nothing after', async () => {
    const signals: AbortSignal[] = []
    const onChange = vi.fn()
    const dispose = watchDocStatus({
      poll: (_etag, pollSignal) => {
        signals.push(pollSignal)
        return new Promise((_resolve, reject) =>
          pollSignal.addEventListener('abort', () => reject(new ApiError('aborted'))),
        )
      },
      onChange,
      visibility: fakeVisibility('visible').source,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(signals).toHaveLength(1)
    dispose()
    expect(signals[0]?.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(VISIBLE_POLL_MS * 3)
    expect(onChange).not.toHaveBeenCalled()
  })

  it('keeps to Retry-After even when the tab comes back into view', async () => {
    const visibility = fakeVisibility('visible')
    const poll = vi.fn(() =>
      Promise.reject(new ApiError('too many requests', CLOSE_REASONS.tooManyRequests, 10_000)),
    )
    const dispose = watchDocStatus({ poll, onChange: () => undefined, visibility: visibility.source })
    await vi.advanceTimersByTimeAsync(0)
    expect(poll).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(VISIBLE_POLL_MS)
    visibility.set('hidden')
    visibility.set('visible')
    await vi.advanceTimersByTimeAsync(0)
    expect(poll).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(10_000 - VISIBLE_POLL_MS)
    expect(poll).toHaveBeenCalledTimes(2)
    dispose()
  })

  it('stops polling once the link is refused for good', async () => {
    const poll = vi.fn(() => Promise.reject(new ApiError('refused', CLOSE_REASONS.forbidden)))
    const seen: DocWatch[] = []
    const dispose = watchDocStatus({
      poll,
      onChange: (watch) => seen.push(watch),
      visibility: fakeVisibility('visible').source,
    })
    await vi.advanceTimersByTimeAsync(VISIBLE_POLL_MS * 5)
    expect(poll).toHaveBeenCalledTimes(1)
    expect(seen.map((watch) => watch.kind)).toEqual(['stopped'])
    dispose()
  })
})
