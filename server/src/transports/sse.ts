import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  CLOSE_REASONS,
  MAX_VIEWER_NAME_LENGTH,
  decodeBase64Url,
  encodeBase64,
  type CloseReason,
} from '@tandem/shared'
import type { AccessResult } from '../auth/access.ts'
import { writeReason } from '../http/errors.ts'
import type { Admit } from '../http/limits.ts'
import type { RoomRegistry } from '../core/RoomRegistry.ts'
import { Session } from '../core/Session.ts'
import type { TransportLog } from './websocket.ts'

export interface SseTransportOptions {
  readonly registry: RoomRegistry
  readonly admit: Admit
  readonly authorize: (docId: string, token: string | null) => Promise<AccessResult>
  readonly maxQueuedBytes: number
  /** Interval of `: ping` comments; well inside common 60 s proxy idle timeouts. */
  readonly heartbeatMs: number
  /** The `retry:` hint: how long an EventSource waits before reconnecting. */
  readonly retryMs: number
  readonly log: TransportLog
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
    const admission = options.admit(request)
    if (!admission.ok) return writeReason(response, admission.reason)
    response.on('close', admission.release)
    const access = await options.authorize(docId, query.get('k'))
    if (!access.ok) return writeReason(response, access.reason)
    let resumeFrom: Uint8Array = EMPTY_STATE_VECTOR
    const stateVector = query.get('sv')
    if (stateVector) {
      try {
        resumeFrom = decodeBase64Url(stateVector)
      } catch {
        return writeReason(response, CLOSE_REASONS.malformedMessage)
      }
    }
    if (request.destroyed) return

    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    })
    response.write(`retry: ${options.retryMs}\n\n`)
    let eventId = 0
    const session = new Session(
      {
        id: randomUUID(),
        role: 'view',
        wantsAcks: false,
        viewerName: (query.get('name') ?? '').slice(0, MAX_VIEWER_NAME_LENGTH),
        resumeFrom,
        isProbe: query.get('probe') === '1',
      },
      {
        write(frames, done) {
          let chunk = ''
          for (const frame of frames) chunk += `id: ${++eventId}\ndata: ${base64Of(frame)}\n\n`
          // Backpressure: the session queues (bounded) until the socket drains (R9).
          if (response.write(chunk)) done()
          else response.once('drain', done)
        },
        end(reason) {
          if (response.writableEnded || response.destroyed) return
          response.end(
            `event: close\ndata: ${JSON.stringify({ code: reason.code, reason: reason.text })}\n\n`,
          )
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
      { maxQueuedBytes: options.maxQueuedBytes },
    )
    sessions.add(session)
    const connection = options.registry.connect(docId, session)
    // However the session ends (slow reader, links reset, shutdown), it leaves its room now.
    session.onClose(() => connection.close())
    const heartbeat = setInterval(() => response.write(': ping\n\n'), options.heartbeatMs)
    options.log.info({ docId, session: session.id, role: 'view', transport: 'sse' }, 'connection opened')

    // Why the stream ended: the reason the server ended it with, else the client went away.
    let endedWith: CloseReason = CLOSE_REASONS.normal
    session.onClose((reason) => (endedWith = reason))
    response.on('close', () => {
      clearInterval(heartbeat)
      sessions.delete(session)
      connection.close()
      session.close(CLOSE_REASONS.normal)
      options.log.info(
        {
          docId,
          session: session.id,
          role: 'view',
          transport: 'sse',
          code: endedWith.code,
          reason: endedWith.text,
        },
        'connection closed',
      )
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
