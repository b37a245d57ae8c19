import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  STREAM_HEARTBEAT,
  encodeBase64,
  encodeCloseEvent,
  encodeFrameEvent,
  encodeStreamRetry,
  type CloseReason,
} from '@tandem/shared'
import { writeReason } from '../http/errors.ts'
import type { Session } from '../core/Session.ts'
import type { ConnectionGate } from './gate.ts'

export interface SseTransportOptions {
  /** Admission, the link token (SPEC R17), joining the room. */
  readonly gate: ConnectionGate
  /** Interval of `: ping` comments; well inside common 60 s proxy idle timeouts. */
  readonly heartbeatMs: number
  /** The `retry:` hint: how long an EventSource waits before reconnecting. */
  readonly retryMs: number
}

export interface SseTransport {
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    docId: string,
    query: URLSearchParams,
  ): Promise<void>
  readonly connectionCount: number
  close(reason: CloseReason): void
}

/** How long an ended stream may take to flush its last event before the socket is dropped. */
const END_GRACE_MS = 1_000

/** An empty Yjs state vector: "I have nothing", so the first event is the whole document. */
const EMPTY_STATE_VECTOR = new Uint8Array([0])

/**
 * `GET /api/docs/<id>/events`: read-only viewers get the document and presence pushed as
 * Server-Sent Events (docs/PROTOCOL.md §6). Each `message` event carries one protocol frame in
 * base64. The stream is receive-only, so the session is always a viewer (SPEC R20–R23).
 */
export function createSseTransport(options: SseTransportOptions): SseTransport {
  const sessions = new Set<Session>()

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    docId: string,
    query: URLSearchParams,
  ): Promise<void> {
    const checked = await options.gate.check(request, docId, query)
    if (!checked.ok) return writeReason(response, checked.reason)
    if (request.destroyed) return options.gate.drop(checked.ticket)
    const { ticket } = checked

    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    })
    response.write(encodeStreamRetry(options.retryMs))
    let eventId = 0
    const connection = options.gate.open(
      ticket,
      'sse',
      {
        write(frames, done) {
          let chunk = ''
          for (const frame of frames) chunk += encodeFrameEvent(++eventId, base64Of(frame))
          // Backpressure: the session queues (bounded) until the socket drains (R9).
          if (response.write(chunk)) done.written()
          else response.once('drain', () => done.written())
        },
        end(reason) {
          if (response.writableEnded || response.destroyed) return
          response.end(encodeCloseEvent(reason.code, reason.text))
          // A client that is not reading never receives the end: drop the socket (R23). Watch the
          // socket, not the response: the response "closes" once its bytes are in the socket buffer.
          const socket = response.socket
          if (!socket) return
          const timer = setTimeout(() => socket.destroy(), END_GRACE_MS)
          timer.unref()
          socket.once('close', () => clearTimeout(timer))
        },
        // A viewer holds no ids another connection could need (R36): nothing to prove.
        checkAlive: () => Promise.resolve(!response.destroyed),
      },
      // The stream is receive-only: always a viewer, always answered with a step 2 (R20, R22).
      { role: 'view', resumeFrom: ticket.params.stateVector ?? EMPTY_STATE_VECTOR },
    )
    const session = connection.session
    sessions.add(session)
    const heartbeat = setInterval(() => response.write(STREAM_HEARTBEAT), options.heartbeatMs)
    response.on('close', () => {
      clearInterval(heartbeat)
      sessions.delete(session)
      connection.end()
    })
    response.on('error', () => undefined)
  }

  return {
    handle,
    get connectionCount() {
      return sessions.size
    },
    close(reason) {
      for (const session of sessions) session.close(reason)
    },
  }
}

/** Event data already encoded, by the message it carries: a broadcast is encoded once, not per viewer. */
const encodedFrames = new WeakMap<Uint8Array, string>()

function base64Of(frame: Uint8Array): string {
  let data = encodedFrames.get(frame)
  if (data === undefined) {
    data = encodeBase64(frame)
    encodedFrames.set(frame, data)
  }
  return data
}
