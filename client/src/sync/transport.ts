import { closeReasonByCode, encodeConnectParams, type CloseReason } from '@tandem/shared'
import type { TransportName } from './types.ts'

/** What a transport reports about one connection attempt. */
export interface TransportHandlers {
  onOpen(): void
  onFrame(frame: Uint8Array): void
  /**
   * Bytes arrived that carry no frame (an SSE `: ping` comment, an empty long-poll answer): the
   * connection is alive. The provider's silence timeout counts these like frames (SPEC R12).
   */
  onAlive(): void
  /**
   * Called once, whether the connection opened or not. `reason` is null for unknown codes;
   * `retryAfterMs` is the server's hint (SSE `retry:`, HTTP `Retry-After`), honoured by the
   * provider's backoff (SPEC R34).
   */
  onClose(reason: CloseReason | null, retryAfterMs?: number): void
}

export interface TransportConnection {
  send(frame: Uint8Array): void
  close(): void
}

/** What a transport may ask of the provider when it connects. */
export interface ConnectContext {
  /** The document's current state vector: receive-only transports resume from it (SPEC R22). */
  stateVector(): Uint8Array
  /** A background probe (R26): it must not count as a viewer or editor while it lasts. */
  readonly isProbe?: boolean
}

/**
 * One way to reach the server (docs/PROTOCOL.md §2). The SyncProvider owns the protocol; a
 * transport only moves frames, so long polling and SSE plug in beside WebSocket.
 */
export interface ClientTransport {
  readonly name: TransportName
  /** False for receive-only transports (SSE): the provider then never sends. */
  readonly canSend: boolean
  open(handlers: TransportHandlers, context: ConnectContext): TransportConnection
}

export class WebSocketTransport implements ClientTransport {
  readonly name = 'websocket'
  readonly canSend = true

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: typeof WebSocket,
  ) {}

  open(handlers: TransportHandlers): TransportConnection {
    const socket = new this.WebSocketImpl(this.url)
    socket.binaryType = 'arraybuffer'
    let isClosed = false
    socket.onopen = () => handlers.onOpen()
    // A close event always follows an error; the error itself carries nothing more to act on.
    socket.onerror = () => undefined
    socket.onmessage = (event: MessageEvent<unknown>) => {
      // Text frames are not part of the protocol; ignore them rather than guess.
      if (event.data instanceof ArrayBuffer) handlers.onFrame(new Uint8Array(event.data))
    }
    socket.onclose = (event: CloseEvent) => {
      if (isClosed) return
      isClosed = true
      handlers.onClose(closeReasonByCode(event.code) ?? null)
    }
    return {
      send: (frame) => {
        if (socket.readyState === this.WebSocketImpl.OPEN) socket.send(frame)
      },
      close: () => {
        if (isClosed) return
        isClosed = true
        socket.close()
        handlers.onClose(null)
      },
    }
  }
}

/** `http://host` → `ws://host/ws/<docId>?k=<token>&ack=1[&wk=<writer key>]` (docs/PROTOCOL.md §1.3, §2). */
export function webSocketUrl(
  baseUrl: string,
  docId: string,
  token: string,
  viewerName = '',
  writerKey = '',
): string {
  const url = new URL(`/ws/${encodeURIComponent(docId)}`, baseUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = encodeConnectParams({ token, wantsAcks: true, viewerName, writerKey: writerKey || null })
  return url.toString()
}

/** `Retry-After` in seconds (the only form Tandem sends) as milliseconds. */
export function retryAfterMs(response: Response): number | undefined {
  const seconds = Number(response.headers.get('Retry-After'))
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined
}
