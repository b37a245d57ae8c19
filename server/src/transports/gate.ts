import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import {
  CLOSE_REASONS,
  ProtocolError,
  decodeConnectParams,
  type CloseReason,
  type ConnectParams,
  type QueryReader,
} from '@tandem/shared'
import type { AccessResult } from '../auth/access.ts'
import type { Admit, BudgetSlot } from '../http/limits.ts'
import type { Connection as RoomConnection, RoomRegistry } from '../core/RoomRegistry.ts'
import { Session, type Outlet, type SessionEvents, type SessionOptions } from '../core/Session.ts'
import type { Peer, Role } from '../core/types.ts'

export type TransportName = 'websocket' | 'sse' | 'longpoll'

export interface TransportLog {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

/** One connection as instrumentation sees it. */
export interface ConnectionInfo {
  readonly docId: string
  readonly peer: Peer
  readonly transport: TransportName
}

/**
 * What the gate reports for metrics (the core emits, observability/ counts). Each connection is
 * `opened` once and `closed` once.
 */
export interface ConnectionObserver {
  opened?(connection: ConnectionInfo, params: ConnectParams): void
  closed?(connection: ConnectionInfo, reason: CloseReason): void
  /** A frame the client sent, before anything checks it. */
  received?(connection: ConnectionInfo, frame: Uint8Array): void
  /** A frame the room sent to the client. */
  sent?(connection: ConnectionInfo, frame: Uint8Array): void
}

export interface GateOptions {
  readonly registry: RoomRegistry
  /** Origin and per-IP budget, before anything else (SPEC R30). */
  readonly admit: Admit
  readonly isOriginAllowed: (request: IncomingMessage) => boolean
  /** The link token, before any work (SPEC R17). */
  readonly authorize: (docId: string, token: string | null) => Promise<AccessResult>
  /** Bytes queued for a client that is not reading before it is closed as a slow reader (R9). */
  readonly maxQueuedBytes: number
  readonly log: TransportLog
  readonly observer?: ConnectionObserver
}

/** A connection that passed the gate and may join its room. */
export interface Ticket {
  readonly docId: string
  readonly role: Role
  readonly params: ConnectParams
}

export type GateResult =
  { readonly ok: true; readonly ticket: Ticket } | { readonly ok: false; readonly reason: CloseReason }

/** A connection in its room. The transport feeds it frames and says when it is gone. */
export interface Connection {
  readonly session: Session
  receive(frame: Uint8Array): void
  /**
   * The transport is gone (socket closed, stream ended); `reason` is what it knows of why, for
   * the log. Leaves the room. Idempotent, and a no-op once the server closed the session.
   */
  end(reason?: CloseReason): void
}

/**
 * The one gate of every connection, whatever its transport (STYLE.md 16): admission (origin,
 * per-IP budget), the link token, the connection parameters, joining the room, wiring both ways
 * a connection ends, and the log lines and metrics of its opening and closing all happen here,
 * once. A transport only moves bytes: it asks `check`, then `open`s with its outlet.
 */
export class ConnectionGate {
  /** Per-IP slots held by tickets not yet opened or by open connections. */
  readonly #releases = new WeakMap<Ticket, BudgetSlot>()

  /** Shared by every session: one object, not one per connection. */
  readonly #sessionOptions: SessionOptions

  constructor(private readonly options: GateOptions) {
    this.#sessionOptions = { maxQueuedBytes: options.maxQueuedBytes }
  }

  /**
   * Origin, per-IP budget, link token and parameters, in that order (SPEC R17, R30). The ticket
   * holds a slot of the client's IP budget until its connection ends, or until `drop(ticket)`.
   */
  async check(request: IncomingMessage, docId: string, query: QueryReader): Promise<GateResult> {
    const admission = this.options.admit(request)
    if (!admission.ok) return admission
    let access: AccessResult
    try {
      access = await this.options.authorize(docId, query.get('k'))
    } catch (error) {
      admission.slot.release()
      throw error
    }
    if (!access.ok) {
      admission.slot.release()
      return access
    }
    let params: ConnectParams
    try {
      params = decodeConnectParams(query)
    } catch (error) {
      admission.slot.release()
      if (error instanceof ProtocolError) return { ok: false, reason: CLOSE_REASONS.malformedMessage }
      throw error
    }
    const ticket: Ticket = { docId, role: access.role, params }
    this.#releases.set(ticket, admission.slot)
    return { ok: true, ticket }
  }

  /** Origin and link token of a later request of an open session (long polling; SPEC R17, R30). */
  async recheck(request: IncomingMessage, docId: string, token: string | null): Promise<AccessResult> {
    if (!this.options.isOriginAllowed(request)) return { ok: false, reason: CLOSE_REASONS.badOrigin }
    return this.options.authorize(docId, token)
  }

  /** A ticket that will not be opened (the client went away meanwhile): its IP slot is freed. */
  drop(ticket: Ticket): void {
    this.#releases.get(ticket)?.release()
    this.#releases.delete(ticket)
  }

  /**
   * Joins the ticket's room over `outlet`. However the connection ends — the server closes the
   * session (rejection, links reset, slow reader, shutdown) or the transport reports it gone — it
   * leaves its room, frees its IP slot, and is logged and counted as closed, once.
   * An event stream narrows the ticket's role to `view` and always resumes from a state vector
   * (SPEC R20, R22): `overrides`.
   */
  open(
    ticket: Ticket,
    transport: TransportName,
    outlet: Outlet,
    overrides: { readonly role?: Role; readonly resumeFrom?: Uint8Array } = {},
  ): Connection {
    const { params } = ticket
    const slot = this.#releases.get(ticket) ?? NO_SLOT
    this.#releases.delete(ticket)
    const connection = new GateConnection(ticket.docId, transport, slot, this.options)
    const session = new Session(
      {
        id: flatUuid(),
        role: overrides.role ?? ticket.role,
        wantsAcks: params.wantsAcks,
        viewerName: params.viewerName,
        resumeFrom: overrides.resumeFrom ?? params.stateVector,
        isProbe: params.isProbe,
        writerKey: params.writerKey,
      },
      outlet,
      this.#sessionOptions,
      connection,
    )
    connection.session = session
    this.options.observer?.opened?.(connection, params)
    this.options.log.info(
      params.isFallback ? { ...connection.logFields(), isFallback: true } : connection.logFields(),
      'connection opened',
    )
    // Wired before joining (the session's events are): the registry may close the session at
    // once (a document being deleted), and that close must still leave, free the IP slot and be
    // logged and counted.
    connection.join(this.options.registry.connect(ticket.docId, session))
    return connection
  }
}

/**
 * A connection the gate opened: what instrumentation sees of it, the transport's handle on it,
 * and what its session reports back, in one object per connection.
 */
class GateConnection implements Connection, ConnectionInfo, SessionEvents {
  // Set by the gate right after construction: the session needs this object to exist first.
  session!: Session
  #room: RoomConnection | null = null
  #endedBy: CloseReason | null = null

  constructor(
    readonly docId: string,
    readonly transport: TransportName,
    private readonly slot: BudgetSlot,
    private readonly options: GateOptions,
  ) {}

  get peer(): Peer {
    return this.session
  }

  join(room: RoomConnection): void {
    // A session the registry closed while joining has left already.
    if (this.session.isClosed) room.close()
    else this.#room = room
  }

  receive(frame: Uint8Array): void {
    this.options.observer?.received?.(this, frame)
    this.#room?.receive(frame)
  }

  end(reason: CloseReason = CLOSE_REASONS.normal): void {
    if (this.session.isClosed) return
    this.#endedBy = reason
    this.session.close(reason)
  }

  closed(reason: CloseReason): void {
    this.#room?.close()
    this.#room = null
    this.slot.release()
    const ended = this.#endedBy ?? reason
    this.options.observer?.closed?.(this, ended)
    this.options.log.info({ ...this.logFields(), code: ended.code, reason: ended.text }, 'connection closed')
  }

  logFields(): { docId: string; session: string; role: Role; transport: TransportName } {
    return { docId: this.docId, session: this.session.id, role: this.session.role, transport: this.transport }
  }

  sent(frame: Uint8Array): void {
    this.options.observer?.sent?.(this, frame)
  }
}

const NO_SLOT: BudgetSlot = { release: () => undefined }

/**
 * A random UUID as one flat string: randomUUID builds it from ~20 joined pieces, which every idle
 * connection would keep for its lifetime.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1')
}
