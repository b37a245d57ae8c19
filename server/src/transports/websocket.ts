import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { CLOSE_REASONS, closeReasonByCode, type CloseReason } from '@tandem/shared'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { retryAfterSeconds } from '../http/limits.ts'
import { TokenBucket } from '../core/TokenBucket.ts'
import type { Intake } from '../core/types.ts'
import type { Outlet, WriteDone } from '../core/Session.ts'
import type { Connection, ConnectionGate, Ticket } from './gate.ts'

export interface WebSocketTransportOptions {
  /** Admission, the link token before the upgrade (SPEC R17), joining the room. */
  readonly gate: ConnectionGate
  readonly maxMessageBytes: number
  /** Interval of protocol pings; a socket that misses one is terminated. */
  readonly pingIntervalMs: number
  /** Inbound messages per second one socket may send; beyond the burst, reading pauses (R29). */
  readonly maxMessagesPerSecond: number
  /** While it is overloaded, no socket is read (R29). */
  readonly intake: Intake
  readonly log: { warn(fields: object, message: string): void }
}

export interface WebSocketTransport {
  /** Handles the upgrade if the path is ours; returns false otherwise. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean
  readonly connectionCount: number
  close(reason: CloseReason): void
}

export const WEBSOCKET_PATH_PREFIX = '/ws/'
/** How long a socket over its message budget is not read. */
const PAUSE_MS = 50
/**
 * Event-loop time the messages of one socket may take: a quarter of a core on average, a second
 * at once. Inputs that are cheap to send and dear to apply (a Yjs update that makes the document
 * walk thousands of concurrent items) slow their sender down, not everyone (R29).
 */
const WORK_MS_PER_SECOND = 250
const WORK_BURST_MS = 1_000
/** Bytes a socket may hold unsent before the session waits for its writes to complete. */
const SOCKET_BUFFER_MARK = 64 * 1024
const SEND_OPTIONS = { binary: true } as const

/**
 * `/ws/<docId>`: the y-websocket wire protocol over binary frames (docs/PROTOCOL.md §2). A thin
 * adapter: it turns a socket into a Session and feeds frames to the core.
 * permessage-deflate is off: it costs CPU per frame, Yjs updates compress poorly, and it opens
 * the door to compression bombs.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
  })
  const alive = new WeakSet<WebSocket>()
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate()
        continue
      }
      alive.delete(ws)
      ws.ping()
    }
  }, options.pingIntervalMs)
  pinger.unref()
  /** Sockets not read until the intake is relieved; each resumes unless its own budget holds it. */
  const waitingForIntake = new Map<WebSocket, WebSocketLink>()
  const links = new WeakMap<WebSocket, WebSocketLink>()
  /** Tickets of sockets whose handshake is under way. */
  const upgrading = new WeakMap<Duplex, Ticket>()
  function dropUnaccepted(this: Duplex): void {
    const ticket = upgrading.get(this)
    upgrading.delete(this)
    if (ticket) options.gate.drop(ticket)
  }
  const stopIntakeListener = options.intake.onRelieved(() => {
    const waiting = [...waitingForIntake.values()]
    waitingForIntake.clear()
    for (const link of waiting) link.resumeIfFree()
  })

  function accept(ws: WebSocket, ticket: Ticket): void {
    alive.add(ws)
    const link = new WebSocketLink(ws, ticket.docId, options, waitingForIntake)
    links.set(ws, link)
    link.connection = options.gate.open(ticket, 'websocket', link)
    ws.on('pong', onPong)
    ws.on('message', onMessage)
    ws.on('error', onError)
    ws.on('close', onClose)
  }

  // One listener of each kind for every socket: an idle connection holds its state object and
  // no closures of its own. `this` is the socket.
  function onPong(this: WebSocket): void {
    alive.add(this)
  }
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    links.get(this)?.receive(data, isBinary)
  }
  function onError(this: WebSocket, error: Error): void {
    const link = links.get(this)
    // ws closes the socket itself after a protocol error (bad frame, too big: 1009).
    options.log.warn(
      { docId: link?.docId, session: link?.connection?.session.id, err: error.message },
      'websocket error',
    )
  }
  function onClose(this: WebSocket, code: number, reason: Buffer): void {
    waitingForIntake.delete(this)
    const link = links.get(this)
    links.delete(this)
    link?.connection?.end(closeReasonByCode(code) ?? lostWith(code, reason.toString()))
  }

  return {
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost')
      if (!url.pathname.startsWith(WEBSOCKET_PATH_PREFIX)) return false
      const docId = decodeURIComponentSafe(url.pathname.slice(WEBSOCKET_PATH_PREFIX.length)) ?? ''
      // The socket may die while the token is checked; that must not become an uncaught error.
      // A module-level listener: a closure here would keep this request alive with the socket.
      socket.on('error', ignoreError)
      options.gate.check(request, docId, url.searchParams).then(
        (result) => {
          if (!result.ok) return rejectUpgrade(socket, result.reason)
          const { ticket } = result
          if (socket.destroyed) return options.gate.drop(ticket)
          // ws answers a broken handshake itself and never calls back: the ticket is dropped then.
          // The listener is shared and the ticket kept beside the socket: a closure here would
          // keep the request, its headers and the handshake's head alive as long as the socket.
          upgrading.set(socket, ticket)
          socket.on('close', dropUnaccepted)
          wss.handleUpgrade(request, socket, head, (ws) => {
            upgrading.delete(socket)
            accept(ws, ticket)
          })
        },
        () => rejectUpgrade(socket, CLOSE_REASONS.internalError),
      )
      return true
    },
    get connectionCount() {
      return wss.clients.size
    },
    close(reason) {
      clearInterval(pinger)
      stopIntakeListener()
      for (const ws of wss.clients) closeSoon(ws, reason)
      wss.close()
    },
  }
}

/**
 * One accepted socket: the session's outlet (STYLE.md 3) and the read budgets (R29). A class, not
 * closures: thousands of idle connections each hold one of these and nothing else of ours.
 */
class WebSocketLink implements Outlet {
  connection: Connection | null = null
  // Backpressure, not disconnection: a client sending faster than its budgets is simply read
  // more slowly (TCP pushes back on it), so it cannot monopolise the event loop (R29): at most
  // so many messages, and so much of the server's time spent on them, per second.
  readonly #messageBudget: TokenBucket
  readonly #timeBudget = new TokenBucket(WORK_BURST_MS, WORK_MS_PER_SECOND)
  #isOverBudget = false

  constructor(
    private readonly ws: WebSocket,
    readonly docId: string,
    private readonly options: WebSocketTransportOptions,
    private readonly waitingForIntake: Map<WebSocket, WebSocketLink>,
  ) {
    this.#messageBudget = new TokenBucket(options.maxMessagesPerSecond * 2, options.maxMessagesPerSecond)
  }

  write(frames: readonly Uint8Array[], done: WriteDone): void {
    const { ws } = this
    // While the socket keeps up, frames go straight to it and the session may send more at
    // once; past the mark, the session queues (and counts, R9) until this write is out.
    const isKeepingUp = ws.bufferedAmount < SOCKET_BUFFER_MARK
    const socket = openSocketOf(ws)
    const last = frames.length - 1
    for (let index = 0; index <= last; index++) {
      const frame = frames[index] as Uint8Array
      const onWritten = index === last && !isKeepingUp ? () => done.written() : undefined
      if (socket) socket.write(websocketFrameOf(frame), onWritten)
      else ws.send(frame, SEND_OPTIONS, onWritten)
    }
    if (isKeepingUp) done.written()
  }

  end(reason: CloseReason): void {
    // A connection dropped for not answering is half-open: no closing handshake can finish.
    if (reason === CLOSE_REASONS.unresponsive) this.ws.terminate()
    else closeSoon(this.ws, reason)
  }

  checkAlive(timeoutMs: number): Promise<boolean> {
    return answersWithin(this.ws, timeoutMs)
  }

  receive(data: RawData, isBinary: boolean): void {
    const connection = this.connection
    if (!connection) return
    if (!isBinary) {
      connection.session.close(CLOSE_REASONS.malformedMessage)
      return
    }
    const startedAt = performance.now()
    connection.receive(toUint8Array(data))
    const workMs = performance.now() - startedAt
    const now = Date.now()
    // Both are charged: work done while over the message budget still counts.
    const hasMessages = this.#messageBudget.take(now)
    const hasTime = this.#timeBudget.charge(now, workMs)
    if (!this.#isOverBudget && !(hasMessages && hasTime)) {
      this.#isOverBudget = true
      this.ws.pause()
      setTimeout(endPause, PAUSE_MS, this).unref()
    }
    if (this.options.intake.isOverloaded && !this.waitingForIntake.has(this.ws)) {
      this.waitingForIntake.set(this.ws, this)
      this.ws.pause()
    }
  }

  resumeIfFree(): void {
    const { ws } = this
    if (!this.#isOverBudget && !this.waitingForIntake.has(ws) && ws.readyState === ws.OPEN) ws.resume()
  }

  endPause(): void {
    this.#isOverBudget = false
    this.resumeIfFree()
  }
}

function endPause(link: WebSocketLink): void {
  link.endPause()
}

/** Refuses an upgrade with an HTTP status before any WebSocket handshake (docs/PROTOCOL.md §4). */
export function rejectUpgrade(socket: Duplex, reason: CloseReason): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ error: reason.text, code: reason.code })
  const retryAfter = retryAfterSeconds(reason)
  socket.on('error', ignoreError)
  socket.end(
    `HTTP/1.1 ${reason.status} ${reason.text}\r\n` +
      'Content-Type: application/json\r\n' +
      (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  )
}

function ignoreError(): void {}

/** A close code the catalogue does not know (1006: the socket just died), for the log. */
function lostWith(code: number, text: string): CloseReason {
  return { code, status: 499, text: text || 'connection lost', isRetryable: true }
}

/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000

/**
 * Closes with `reason`. A superseded connection is most likely half-open, and a shutdown must not
 * wait for one: for those the socket is dropped if the client does not finish the closing
 * handshake soon (ws would hold it for 30 s). Others (a slow reader) get the usual handshake, so
 * a client reading late still learns why.
 */
function closeSoon(ws: WebSocket, reason: CloseReason): void {
  if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return
  ws.close(reason.code, reason.text)
  if (reason === CLOSE_REASONS.superseded || reason === CLOSE_REASONS.serverShutdown)
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref()
}

/**
 * Pings the socket; true once anything comes back (a pong or a message) within `timeoutMs`.
 * A half-open connection (its client switched networks or slept) never answers (R36).
 */
function answersWithin(ws: WebSocket, timeoutMs: number): Promise<boolean> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve(false)
  return new Promise((resolve) => {
    const settle = (isAlive: boolean): void => {
      clearTimeout(timer)
      ws.off('pong', onAnswer)
      ws.off('message', onAnswer)
      ws.off('close', onClose)
      resolve(isAlive)
    }
    const onAnswer = (): void => settle(true)
    const onClose = (): void => settle(false)
    const timer = setTimeout(() => settle(false), timeoutMs)
    ws.on('pong', onAnswer)
    ws.on('message', onAnswer)
    ws.on('close', onClose)
    ws.ping()
  })
}

/**
 * The TCP socket under an open WebSocket, to write whole frames to (see websocketFrameOf); null
 * if ws does not expose it or the socket is closing (ws.send then does the work, or drops).
 */
function openSocketOf(ws: WebSocket): Duplex | null {
  if (ws.readyState !== ws.OPEN) return null
  const socket = (ws as unknown as { _socket?: Duplex })._socket
  return socket && !socket.destroyed && socket.writable ? socket : null
}

/** Frames already built, by the message they carry (a broadcast is one message object). */
const builtFrames = new WeakMap<Uint8Array, Buffer>()

/**
 * A server's WebSocket frames are not masked (RFC 6455 §5.1), so a message's frame is the same
 * bytes for every recipient: a broadcast builds it once and writes that buffer to every socket,
 * where ws.send would build a header, wrap the payload and cork the socket per recipient. With
 * permessage-deflate off, ws writes its own frames (pings, close) whole too, so frames never
 * interleave. Binary, final, unfragmented (§5.2).
 */
function websocketFrameOf(message: Uint8Array): Buffer {
  let frame = builtFrames.get(message)
  if (frame) return frame
  const length = message.byteLength
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10
  frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = 0x82
  if (length < 126) frame[1] = length
  else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  frame.set(message, headerLength)
  builtFrames.set(message, frame)
  return frame
}

function toUint8Array(data: RawData): Uint8Array {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

function decodeURIComponentSafe(value: string): string | null {
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}
