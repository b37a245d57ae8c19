import {
  BATCH_HEADER,
  CLOSE_REASONS,
  ProtocolError,
  decodeFrameBatch,
  decodePollRequest,
  encodeBatchHeader,
  encodeFrameBatch,
  type CloseReason,
  type PollRequest,
} from '@tandem/shared'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sendReason as send } from '../http/errors.ts'
import type { Session, WriteDone } from '../core/Session.ts'
import type { Connection, ConnectionGate, Ticket } from './gate.ts'

export interface LongPollOptions {
  /** Admission and the link token when a session opens; origin and token on every request. */
  readonly gate: ConnectionGate
  /**
   * This node's name, the first part of every session id (`<nodeName>.<random>`): a load balancer
   * sends a session's requests to the node that holds it by this alone (PROTOCOL §8.2, SPEC R68).
   */
  readonly nodeName: string
  readonly maxMessageBytes: number
  /** How long a poll is held when there is nothing to send (≤ 25 s, R24). */
  readonly pollTimeoutMs: number
  /** A session with no request for this long expires and its presence is removed (R25). */
  readonly idleTimeoutMs: number
}

export interface LongPollTransport {
  register(app: FastifyInstance): void
  readonly connectionCount: number
  close(reason: CloseReason): void
}

/** A batch of frames handed to one poll; re-sent until a later poll acknowledges its seq. */
interface Batch {
  readonly seq: number
  readonly frames: readonly Uint8Array[]
}

type PollOutcome =
  | { readonly kind: 'batch'; readonly batch: Batch | null }
  | { readonly kind: 'closed'; readonly reason: CloseReason }

interface Waiter {
  readonly resolve: (outcome: PollOutcome) => void
  readonly timer: NodeJS.Timeout
}

/**
 * One long-polling client. The Session owns the outbound queue; this outlet only says when it can
 * write: when a poll is waiting and the previous batch was acknowledged (STYLE.md 3, R24).
 */
class PollSession {
  readonly connection: Connection
  /** The session id clients send; the room's session id after the node name, so logs match. */
  readonly id: string
  lastActivityMs = Date.now()
  #lastInboundSeq = 0
  #batchSeq = 0
  #ready: { frames: readonly Uint8Array[]; done: WriteDone } | null = null
  #unacked: { batch: Batch; done: WriteDone } | null = null
  #waiter: Waiter | null = null
  #closedWith: CloseReason | null = null
  /** Liveness checks waiting for this client's next request (R36). */
  #livenessWaiters: Array<(isAlive: boolean) => void> = []

  constructor(
    readonly docId: string,
    ticket: Ticket,
    gate: ConnectionGate,
    nodeName: string,
  ) {
    this.connection = gate.open(ticket, 'longpoll', {
      write: (frames, done) => {
        this.#ready = { frames, done }
        this.#deliver()
      },
      end: (reason) => {
        this.#closedWith = reason
        this.#ready = null
        this.#unacked = null
        this.#settle({ kind: 'closed', reason })
        this.#answerLiveness(false)
      },
      checkAlive: (timeoutMs) => this.#checkAlive(timeoutMs),
    })
    this.id = `${nodeName}.${this.connection.session.id}`
  }

  get session(): Session {
    return this.connection.session
  }

  get closedWith(): CloseReason | null {
    return this.#closedWith
  }

  get isWaiting(): boolean {
    return this.#waiter !== null
  }

  /** Applies a POSTed batch once: a retried POST with a seen seq is acknowledged, not re-applied. */
  receive(seq: number, frames: readonly Uint8Array[]): 'applied' | 'duplicate' | 'out-of-order' {
    this.lastActivityMs = Date.now()
    this.#answerLiveness(true)
    if (seq <= this.#lastInboundSeq) return 'duplicate'
    if (seq !== this.#lastInboundSeq + 1) return 'out-of-order'
    this.#lastInboundSeq = seq
    for (const frame of frames) this.connection.receive(frame)
    return 'applied'
  }

  poll(ack: number, waitMs: number, signal: AbortSignal): Promise<PollOutcome> {
    this.lastActivityMs = Date.now()
    this.#answerLiveness(true)
    if (this.#closedWith) return Promise.resolve({ kind: 'closed', reason: this.#closedWith })
    // One poll at a time: a newer poll ends the older one with an empty answer.
    this.#settle({ kind: 'batch', batch: null })
    if (this.#unacked) {
      if (ack < this.#unacked.batch.seq) return Promise.resolve({ kind: 'batch', batch: this.#unacked.batch })
      const { done } = this.#unacked
      this.#unacked = null
      done.written() // may write the next batch into #ready at once
    }
    if (this.#ready) return Promise.resolve({ kind: 'batch', batch: this.#take() })
    if (waitMs === 0) return Promise.resolve({ kind: 'batch', batch: null })
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle({ kind: 'batch', batch: null }), waitMs)
      this.#waiter = { resolve, timer }
      signal.addEventListener('abort', () => {
        if (this.#waiter?.resolve === resolve) this.#settle({ kind: 'batch', batch: null })
      })
    })
  }

  /**
   * A held poll may sit on a dead TCP connection: it is answered (empty) now, and a live client
   * polls again at once; one that sends no request within `timeoutMs` is gone (R36).
   */
  #checkAlive(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#livenessWaiters = this.#livenessWaiters.filter((waiter) => waiter !== answer)
        resolve(false)
      }, timeoutMs)
      const answer = (isAlive: boolean): void => {
        clearTimeout(timer)
        resolve(isAlive)
      }
      this.#livenessWaiters.push(answer)
      this.#settle({ kind: 'batch', batch: null })
    })
  }

  #answerLiveness(isAlive: boolean): void {
    if (this.#livenessWaiters.length === 0) return
    const waiters = this.#livenessWaiters
    this.#livenessWaiters = []
    for (const answer of waiters) answer(isAlive)
  }

  #deliver(): void {
    if (!this.#waiter || !this.#ready) return
    this.#settle({ kind: 'batch', batch: this.#take() })
  }

  #take(): Batch {
    const ready = this.#ready
    if (!ready) throw new Error('nothing ready')
    this.#ready = null
    const batch = { seq: ++this.#batchSeq, frames: ready.frames }
    this.#unacked = { batch, done: ready.done }
    return batch
  }

  #settle(outcome: PollOutcome): void {
    const waiter = this.#waiter
    if (!waiter) return
    this.#waiter = null
    clearTimeout(waiter.timer)
    this.lastActivityMs = Date.now()
    waiter.resolve(outcome)
  }
}

/** How long a closed session's reason is kept, so its client learns why (links reset, …). */
const TOMBSTONE_MS = 60_000

type SessionRequest = FastifyRequest<{ Params: { id: string; sid: string } }>

/**
 * HTTP long polling (docs/PROTOCOL.md §8): the same protocol frames as WebSocket, sent in POST
 * bodies and received by a held GET. Also serves short polling (`wait=0`).
 */
export function createLongPollTransport(options: LongPollOptions): LongPollTransport {
  const sessions = new Map<string, PollSession>()
  const tombstones = new Map<string, { reason: CloseReason; at: number }>()
  const sweeper = setInterval(sweep, Math.min(5_000, options.idleTimeoutMs / 2))
  sweeper.unref()

  function sweep(): void {
    const now = Date.now()
    for (const poll of sessions.values()) {
      if (!poll.isWaiting && now - poll.lastActivityMs > options.idleTimeoutMs) {
        poll.session.close(CLOSE_REASONS.sessionExpired)
      }
    }
    for (const [id, tombstone] of tombstones) if (now - tombstone.at > TOMBSTONE_MS) tombstones.delete(id)
  }

  function track(poll: PollSession): void {
    sessions.set(poll.id, poll)
    poll.session.onClose((reason) => {
      sessions.delete(poll.id)
      tombstones.set(poll.id, { reason, at: Date.now() })
    })
  }

  /**
   * Origin and token are checked on every request (R17, R30), then the session must belong to the
   * document. Null (and answered) if the request may not go on.
   */
  async function find(
    request: SessionRequest,
    reply: FastifyReply,
  ): Promise<{ poll: PollSession; query: PollRequest } | null> {
    let query: PollRequest
    try {
      query = decodePollRequest(queryOf(request))
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
      await send(reply, CLOSE_REASONS.malformedMessage)
      return null
    }
    const access = await options.gate.recheck(request.raw, request.params.id, query.token)
    if (!access.ok) {
      await send(reply, access.reason)
      return null
    }
    const poll = sessions.get(request.params.sid)
    if (!poll || poll.docId !== request.params.id) {
      await send(reply, tombstones.get(request.params.sid)?.reason ?? CLOSE_REASONS.sessionExpired)
      return null
    }
    return { poll, query }
  }

  function register(app: FastifyInstance): void {
    app.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: options.maxMessageBytes },
      (_request, body, done) => done(null, body),
    )

    app.post('/api/docs/:id/lp', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const checked = await options.gate.check(request.raw, request.params.id, queryOf(request))
      if (!checked.ok) return send(reply, checked.reason)
      const poll = new PollSession(request.params.id, checked.ticket, options.gate, options.nodeName)
      track(poll)
      return reply.code(201).send({
        sessionId: poll.id,
        pollTimeoutMs: options.pollTimeoutMs,
        idleTimeoutMs: options.idleTimeoutMs,
      })
    })

    app.post('/api/docs/:id/lp/:sid', async (request: SessionRequest, reply) => {
      const found = await find(request, reply)
      if (!found) return reply
      const { poll } = found
      const seq = found.query.seq
      if (seq === null || seq < 1) return send(reply, CLOSE_REASONS.malformedMessage)
      let frames: Uint8Array[]
      try {
        frames = decodeFrameBatch(toBytes(request.body))
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error
        poll.session.close(CLOSE_REASONS.malformedMessage)
        return send(reply, CLOSE_REASONS.malformedMessage)
      }
      const result = poll.receive(seq, frames)
      if (result === 'out-of-order') return send(reply, CLOSE_REASONS.conflict)
      if (poll.closedWith) return send(reply, poll.closedWith)
      return reply.code(204).send()
    })

    app.get('/api/docs/:id/lp/:sid', async (request: SessionRequest, reply) => {
      const found = await find(request, reply)
      if (!found) return reply
      const { poll, query } = found
      const waitMs = query.isShort ? 0 : options.pollTimeoutMs
      const aborted = new AbortController()
      request.raw.on('close', () => aborted.abort())
      const outcome = await poll.poll(query.ack, waitMs, aborted.signal)
      if (outcome.kind === 'closed') return send(reply, outcome.reason)
      reply.header('Cache-Control', 'no-store')
      if (!outcome.batch) return reply.code(204).send()
      return reply
        .code(200)
        .header('Content-Type', 'application/octet-stream')
        .header(BATCH_HEADER, encodeBatchHeader(outcome.batch.seq))
        .send(Buffer.from(encodeFrameBatch(outcome.batch.frames)))
    })

    app.delete('/api/docs/:id/lp/:sid', async (request: SessionRequest, reply) => {
      const found = await find(request, reply)
      if (!found) return reply
      found.poll.connection.end(CLOSE_REASONS.normal)
      return reply.code(204).send()
    })
  }

  return {
    register,
    get connectionCount() {
      return sessions.size
    },
    close(reason) {
      clearInterval(sweeper)
      for (const poll of [...sessions.values()]) poll.session.close(reason)
    },
  }
}

/** The raw query of a request, as the shared decoders read it. */
function queryOf(request: FastifyRequest): URLSearchParams {
  const url = request.raw.url ?? ''
  const start = url.indexOf('?')
  return new URLSearchParams(start < 0 ? '' : url.slice(start + 1))
}

function toBytes(body: unknown): Uint8Array {
  if (Buffer.isBuffer(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return new Uint8Array()
}
