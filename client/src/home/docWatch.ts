import { ApiError, type DocStatus, type DocStatusReply } from '../api.ts'
import type { Disposer } from '../sync/index.ts'

/** Short polling (R27): often enough to feel live while someone looks, rarely when nobody does. */
export const VISIBLE_POLL_MS = 3_000
export const HIDDEN_POLL_MS = 15_000

/** A status the server sent, with the ETag that names it for the next conditional request. */
export interface KnownStatus {
  readonly status: DocStatus
  readonly etag: string | null
}

/**
 * What the home page knows about one document (STYLE.md 6). A failed refresh keeps what was known
 * before: the entry shows the last answer and, beside it, why it may be out of date.
 */
export type DocWatch =
  | { readonly kind: 'loading' }
  | { readonly kind: 'live'; readonly known: KnownStatus; readonly checkedAtMs: number }
  /** The last refresh failed; polling goes on. */
  | {
      readonly kind: 'failing'
      readonly known: KnownStatus | null
      readonly error: ApiError
      readonly checkedAtMs: number
    }
  /** Refused for good (links were reset, the document is gone): polling has stopped. */
  | {
      readonly kind: 'stopped'
      readonly known: KnownStatus | null
      readonly error: ApiError
      readonly checkedAtMs: number
    }

/** How one poll ended. */
export type PollOutcome = DocStatusReply | { readonly kind: 'failed'; readonly error: ApiError }

export function pollIntervalMs(visibility: DocumentVisibilityState): number {
  return visibility === 'hidden' ? HIDDEN_POLL_MS : VISIBLE_POLL_MS
}

/** The wait before the next poll: the interval, or longer when the server asked for it (429, 503). */
export function nextPollDelayMs(watch: DocWatch, visibility: DocumentVisibilityState): number {
  const retryAfterMs = watch.kind === 'failing' ? (watch.error.retryAfterMs ?? 0) : 0
  return Math.max(pollIntervalMs(visibility), retryAfterMs)
}

export function knownOf(watch: DocWatch): KnownStatus | null {
  return watch.kind === 'loading' ? null : watch.known
}

/** The ETag to send as `If-None-Match`: only one naming a status we still hold. */
export function etagOf(watch: DocWatch): string | null {
  return knownOf(watch)?.etag ?? null
}

export function nextWatch(watch: DocWatch, outcome: PollOutcome, nowMs: number): DocWatch {
  const known = knownOf(watch)
  switch (outcome.kind) {
    case 'changed':
      return { kind: 'live', known: { status: outcome.status, etag: outcome.etag }, checkedAtMs: nowMs }
    case 'unchanged':
      // A 304 confirms the status its ETag named, even after failed refreshes in between.
      if (known !== null) return { kind: 'live', known, checkedAtMs: nowMs }
      return {
        kind: 'failing',
        known: null,
        error: new ApiError('the server sent an unexpected reply'),
        checkedAtMs: nowMs,
      }
    case 'failed': {
      const isFinal = outcome.error.reason !== null && !outcome.error.reason.isRetryable
      return { kind: isFinal ? 'stopped' : 'failing', known, error: outcome.error, checkedAtMs: nowMs }
    }
  }
}

/** Whether the tab is looked at, and when that changes. */
export interface VisibilitySource {
  state(): DocumentVisibilityState
  onChange(listener: () => void): Disposer
}

export function documentVisibility(): VisibilitySource {
  return {
    state: () => document.visibilityState,
    onChange(listener) {
      document.addEventListener('visibilitychange', listener)
      return () => document.removeEventListener('visibilitychange', listener)
    },
  }
}

export interface WatchOptions {
  /** One conditional request; rejects with an ApiError. */
  readonly poll: (etag: string | null, signal: AbortSignal) => Promise<DocStatusReply>
  readonly onChange: (watch: DocWatch) => void
  readonly visibility?: VisibilitySource
  readonly now?: () => number
}

/**
 * Polls one document's status until disposed or refused for good, one request at a time (STYLE.md
 * 12). Disposing aborts the request in flight and reports nothing more, so an unmounted entry, or
 * a page being left, stops polling at once.
 */
export function watchDocStatus({
  poll,
  onChange,
  visibility = documentVisibility(),
  now = Date.now,
}: WatchOptions): Disposer {
  const abort = new AbortController()
  let watch: DocWatch = { kind: 'loading' }
  let wake: (() => void) | null = null
  // Back on the tab: refresh now instead of finishing a hidden tab's long wait, unless the server
  // asked us to wait (R34).
  const stopListening = visibility.onChange(() => {
    const isAskedToWait = watch.kind === 'failing' && watch.error.retryAfterMs !== null
    if (visibility.state() === 'visible' && !isAskedToWait) wake?.()
  })

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      wake = done
    })

  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      let outcome: PollOutcome
      try {
        outcome = await poll(etagOf(watch), abort.signal)
      } catch (error) {
        outcome = { kind: 'failed', error: error instanceof ApiError ? error : new ApiError(String(error)) }
      }
      if (abort.signal.aborted) return
      watch = nextWatch(watch, outcome, now())
      onChange(watch)
      if (watch.kind === 'stopped') return
      await sleep(nextPollDelayMs(watch, visibility.state()))
    }
  }
  void loop()

  return () => {
    abort.abort()
    stopListening()
    wake?.()
  }
}
