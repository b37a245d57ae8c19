import {
  BATCH_HEADER,
  closeReasonByCode,
  decodeBatchHeader,
  decodeFrameBatch,
  encodeConnectParams,
  encodeFrameBatch,
  encodePollRequest,
  type CloseReason,
} from '@tandem/shared'
import type { FallbackConnectContext } from './fallback.ts'
import {
  retryAfterMs,
  type ClientTransport,
  type TransportConnection,
  type TransportHandlers,
} from './transport.ts'

export interface LongPollTransportOptions {
  readonly baseUrl: string
  readonly docId: string
  readonly token: string
  readonly viewerName?: string
  /** Sent when the session opens: the writer key of SPEC R33. */
  readonly writerKey?: string
  /**
   * `long`: the server holds each poll until there is data (default). `short`: plain interval
   * polls for networks that kill held requests (docs/PROTOCOL.md §8).
   */
  readonly style?: 'long' | 'short'
  readonly fetchImpl?: typeof fetch
  /**
   * How much longer than the server's `pollTimeoutMs` a poll may take before the connection counts
   * as dead (a half-open TCP connection never answers). Defaults to POLL_GRACE_MS.
   */
  readonly pollGraceMs?: number
}

/** Attempts per request before a network error ends the connection. */
const REQUEST_ATTEMPTS = 3
const RETRY_DELAY_MS = 250
/** Short polling: fast while data flows, slower when nothing happens (R27). */
const SHORT_POLL_MIN_MS = 500
const SHORT_POLL_MAX_MS = 4_000
/** The server holds a poll at most `pollTimeoutMs` (≤ 25 s, R24); what it says when it opens a session. */
const DEFAULT_POLL_TIMEOUT_MS = 25_000
/** A poll unanswered this long after the server's own timeout is on a dead connection (SPEC R12). */
export const POLL_GRACE_MS = 10_000

/** A poll outlived its deadline: the connection is dead, not slow. Never retried on it. */
class SilentPoll extends Error {}

class HttpRefusal extends Error {
  constructor(
    readonly reason: CloseReason | null,
    readonly retryAfterMs: number | undefined,
  ) {
    super(reason?.text ?? 'refused')
  }
}

/**
 * HTTP long polling (docs/PROTOCOL.md §8). Frames go out in POST bodies, one batch at a time, each
 * with a sequence number so a retry after a network error is applied once; frames come back from a
 * GET that acknowledges the previous batch, so a lost response is sent again (R24).
 */
export class LongPollTransport implements ClientTransport {
  readonly name: 'longpoll' | 'poll'
  readonly canSend = true

  constructor(private readonly options: LongPollTransportOptions) {
    this.name = options.style === 'short' ? 'poll' : 'longpoll'
  }

  open(handlers: TransportHandlers, context?: FallbackConnectContext): TransportConnection {
    const { baseUrl, docId, token, viewerName, fetchImpl = globalThis.fetch } = this.options
    const isShort = this.options.style === 'short'
    const abort = new AbortController()
    const base = `${baseUrl.replace(/\/$/, '')}/api/docs/${encodeURIComponent(docId)}/lp`
    const auth = encodePollRequest({ token })
    let sessionId: string | null = null
    let isClosed = false
    let outbox: Uint8Array[] = []
    let isPosting = false
    let postSeq = 0
    let lastBatch = 0
    let idlePolls = 0

    const finish = (reason: CloseReason | null, retryAfter?: number): void => {
      if (isClosed) return
      isClosed = true
      abort.abort()
      if (sessionId) {
        // Best effort: free the server's session (and our presence) now rather than at expiry.
        void fetchImpl(`${base}/${sessionId}?${auth}`, { method: 'DELETE', keepalive: true }).catch(
          () => undefined,
        )
      }
      handlers.onClose(reason, retryAfter)
    }

    const request = async (url: string, init: RequestInit): Promise<Response> => {
      const signal = init.signal ?? abort.signal
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetchImpl(url, { ...init, signal, cache: 'no-store' })
          if (response.ok) return response
          const body = (await response.json().catch(() => null)) as { code?: number } | null
          throw new HttpRefusal(closeReasonByCode(body?.code ?? -1) ?? null, retryAfterMs(response))
        } catch (error) {
          if (error instanceof HttpRefusal || signal.aborted || attempt >= REQUEST_ATTEMPTS) throw error
          await delay(RETRY_DELAY_MS * attempt)
        }
      }
    }

    const flush = async (): Promise<void> => {
      if (isPosting || isClosed || sessionId === null || outbox.length === 0) return
      isPosting = true
      const frames = outbox
      outbox = []
      const seq = ++postSeq
      try {
        // The same seq on every retry: the server applies the batch once.
        await request(`${base}/${sessionId}?${encodePollRequest({ token, seq })}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: encodeFrameBatch(frames) as BodyInit,
        })
        idlePolls = 0
      } finally {
        isPosting = false
      }
      await flush()
    }

    /** One poll, answer and body included, within `deadlineMs`; the frames it brought. */
    const poll = async (deadlineMs: number): Promise<Uint8Array[] | null> => {
      const deadline = linkedDeadline(abort.signal, deadlineMs)
      try {
        const query = encodePollRequest({ token, ack: lastBatch, isShort })
        const response = await request(`${base}/${sessionId}?${query}`, {
          method: 'GET',
          signal: deadline.signal,
        })
        if (response.status !== 200) return null
        lastBatch = decodeBatchHeader(response.headers.get(BATCH_HEADER))
        return decodeFrameBatch(new Uint8Array(await response.arrayBuffer()))
      } catch (error) {
        throw deadline.hasExpired() ? new SilentPoll() : error
      } finally {
        deadline.dispose()
      }
    }

    const pollLoop = async (deadlineMs: number): Promise<void> => {
      while (!isClosed && sessionId !== null) {
        const frames = await poll(deadlineMs)
        if (frames === null) {
          // 204: the poll's time was up, or a newer poll took over. Either way the server answered.
          idlePolls += 1
          if (!isClosed) handlers.onAlive()
        } else {
          idlePolls = 0
          for (const frame of frames) if (!isClosed) handlers.onFrame(frame)
        }
        if (isShort) await delay(Math.min(SHORT_POLL_MAX_MS, SHORT_POLL_MIN_MS * 2 ** Math.min(idlePolls, 3)))
      }
    }

    const run = async (): Promise<void> => {
      const params = encodeConnectParams({
        token,
        wantsAcks: true,
        viewerName,
        writerKey: this.options.writerKey || null,
        // Only counted by the server's metrics (R51): it opens the same session either way.
        isFallback: context?.isFallback ?? false,
      })
      const created = await request(`${base}?${params}`, { method: 'POST' })
      const session = (await created.json()) as { sessionId: string; pollTimeoutMs?: number }
      sessionId = session.sessionId
      // A held poll answers within the server's pollTimeoutMs (204 when idle); one that does not is
      // on a half-open connection, which would otherwise hang until the OS gives up (SPEC R12).
      const heldMs = isShort ? 0 : (session.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS)
      handlers.onOpen()
      void flush().catch(fail)
      await pollLoop(heldMs + (this.options.pollGraceMs ?? POLL_GRACE_MS))
    }

    const fail = (error: unknown): void =>
      error instanceof HttpRefusal ? finish(error.reason, error.retryAfterMs) : finish(null)
    void run().catch(fail)

    return {
      send: (frame) => {
        if (isClosed) return
        outbox.push(frame)
        void flush().catch(fail)
      },
      close: () => finish(null),
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A signal that aborts with `parent`, or by itself after `ms`; hasExpired() tells which. */
function linkedDeadline(
  parent: AbortSignal,
  ms: number,
): { signal: AbortSignal; hasExpired(): boolean; dispose(): void } {
  const controller = new AbortController()
  let hasExpired = false
  const timer = setTimeout(() => {
    hasExpired = true
    controller.abort()
  }, ms)
  const onParentAbort = (): void => controller.abort()
  parent.addEventListener('abort', onParentAbort)
  if (parent.aborted) controller.abort()
  return {
    signal: controller.signal,
    hasExpired: () => hasExpired,
    dispose: () => {
      clearTimeout(timer)
      parent.removeEventListener('abort', onParentAbort)
    },
  }
}
