import {
  ProtocolError,
  closeReasonByCode,
  decodeStreamEvent,
  encodeConnectParams,
  type CloseReason,
} from '@tandem/shared'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import {
  retryAfterMs,
  type ClientTransport,
  type ConnectContext,
  type TransportConnection,
  type TransportHandlers,
} from './transport.ts'

export interface SseTransportOptions {
  readonly baseUrl: string
  readonly docId: string
  readonly token: string
  readonly viewerName: string
  readonly fetchImpl?: typeof fetch
}

/**
 * Receive-only transport over Server-Sent Events (docs/PROTOCOL.md §6). Uses fetch and a
 * well-kept SSE parser instead of EventSource so every (re)connect sends the current state
 * vector: a returning viewer downloads only what it lacks (SPEC R22), and the provider's own
 * backoff loop, not the browser's, decides when to retry.
 */
export class SseTransport implements ClientTransport {
  readonly name = 'sse'
  readonly canSend = false

  constructor(private readonly options: SseTransportOptions) {}

  open(handlers: TransportHandlers, context: ConnectContext): TransportConnection {
    const controller = new AbortController()
    let isClosed = false
    const hint = { retryMs: undefined as number | undefined }
    const finish = (reason: CloseReason | null, retryAfter = hint.retryMs): void => {
      if (isClosed) return
      isClosed = true
      controller.abort()
      handlers.onClose(reason, retryAfter)
    }
    void this.#stream(handlers, context, controller.signal, finish, hint).catch(() => finish(null))
    return { send: () => undefined, close: () => finish(null) }
  }

  async #stream(
    handlers: TransportHandlers,
    context: ConnectContext,
    signal: AbortSignal,
    finish: (reason: CloseReason | null, retryAfter?: number) => void,
    hint: { retryMs: number | undefined },
  ): Promise<void> {
    const { baseUrl, docId, token, viewerName, fetchImpl = globalThis.fetch } = this.options
    const url = new URL(`/api/docs/${encodeURIComponent(docId)}/events`, baseUrl)
    url.search = encodeConnectParams({
      token,
      stateVector: context.stateVector(),
      viewerName,
      isProbe: context.isProbe ?? false,
    })
    const response = await fetchImpl(url, {
      headers: { Accept: 'text/event-stream' },
      signal,
      cache: 'no-store',
    })
    if (!response.ok || !response.body) {
      const body = (await response.json().catch(() => null)) as { code?: number } | null
      finish(closeReasonByCode(body?.code ?? -1) ?? null, retryAfterMs(response))
      return
    }
    handlers.onOpen()
    // Any byte is a sign of life, the server's `: ping` comments (every SSE_HEARTBEAT_MS, 15 s)
    // included: the parser's onComment sees only whole comments, this sees every chunk (SPEC R12).
    const alive = new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        handlers.onAlive()
        controller.enqueue(chunk)
      },
    })
    const events = response.body
      .pipeThrough(alive)
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onRetry: (ms) => (hint.retryMs = ms) }))
    const reader = events.getReader()
    for (;;) {
      const { done, value: event } = await reader.read()
      if (done) break
      let decoded
      try {
        decoded = decodeStreamEvent(event)
      } catch (error) {
        // An event we cannot read means we disagree with the server on the protocol: start over.
        if (!(error instanceof ProtocolError)) throw error
        finish(null)
        return
      }
      if (decoded.kind === 'close') {
        finish(closeReasonByCode(decoded.code) ?? null)
        return
      }
      handlers.onFrame(decoded.frame)
    }
    finish(null)
  }
}
