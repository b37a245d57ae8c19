import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import { createHash } from 'node:crypto'
import type { Disposer, Peer, Role } from './types.ts'

export interface SessionIdentity {
  readonly id: string
  readonly role: Role
  readonly wantsAcks: boolean
  readonly viewerName?: string
  readonly resumeFrom?: Uint8Array | null
  readonly isProbe?: boolean
  /** The `wk` the client sent, as it sent it; the session keeps only its digest (R33). */
  readonly writerKey?: string | null
}

/**
 * The transport's half of a session: it only says when it can write (STYLE.md 3). A WebSocket
 * writes at once; a long poll writes when a poll is waiting.
 */
export interface Outlet {
  /** Hand frames to the network; call `done.written()` once they are written so the session sends more. */
  write(frames: readonly Uint8Array[], done: WriteDone): void
  /** End the connection with this reason. Called once. */
  end(reason: CloseReason): void
  /** Resolves whether the client showed it is there within `timeoutMs` (R36); see Peer. */
  checkAlive(timeoutMs: number): Promise<boolean>
}

/** Told that a write handed to an outlet is out (the session itself, so no callback per session). */
export interface WriteDone {
  written(): void
}

export interface SessionOptions {
  /** Bytes queued for a client that is not reading before it is closed as a slow reader (R9). */
  readonly maxQueuedBytes: number
}

/** What the session's owner hears (an object, so a session holds no closures of its own). */
export interface SessionEvents {
  /** Told about every frame the room sends (metrics); never changes the outcome. */
  readonly sent?: ((frame: Uint8Array) => void) | undefined
  /** The session closed, with this reason; before any `onClose` listener. */
  closed(reason: CloseReason): void
}

type SessionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'writing' }
  | { readonly kind: 'closed'; readonly reason: CloseReason }

/** Shared: a broadcast to hundreds of sessions allocates no state objects. */
const IDLE: SessionState = { kind: 'idle' }
const WRITING: SessionState = { kind: 'writing' }

/**
 * A Peer that owns its outbound queue. Frames queue while the outlet is busy and go out together
 * on the next write, so a slow socket gets fewer, larger writes; past `maxQueuedBytes` the client
 * is closed instead of growing server memory (R9).
 */
export class Session implements Peer, WriteDone {
  #queue: Uint8Array[] = []
  #queuedBytes = 0
  #state: SessionState = IDLE
  /** Made on first use: most sessions have none. */
  #closeListeners: Set<(reason: CloseReason) => void> | null = null

  readonly id: string
  readonly role: Role
  readonly wantsAcks: boolean
  readonly viewerName: string
  readonly resumeFrom: Uint8Array | null
  readonly isProbe: boolean
  readonly writerKey: string | null

  constructor(
    identity: SessionIdentity,
    private readonly outlet: Outlet,
    private readonly limits: SessionOptions,
    private readonly events: SessionEvents | null = null,
  ) {
    this.id = identity.id
    this.role = identity.role
    this.wantsAcks = identity.wantsAcks
    this.viewerName = identity.viewerName ?? ''
    this.resumeFrom = identity.resumeFrom ?? null
    this.isProbe = identity.isProbe ?? false
    this.writerKey = writerKeyDigest(identity.writerKey)
  }

  get isClosed(): boolean {
    return this.#state.kind === 'closed'
  }

  get queuedBytes(): number {
    return this.#queuedBytes
  }

  send(frame: Uint8Array): void {
    if (this.#state.kind !== 'closed') this.events?.sent?.(frame)
    switch (this.#state.kind) {
      case 'closed':
        return
      case 'idle':
        this.#state = WRITING
        this.#write([frame])
        return
      case 'writing':
        this.#queue.push(frame)
        this.#queuedBytes += frame.byteLength
        if (this.#queuedBytes > this.limits.maxQueuedBytes) this.close(CLOSE_REASONS.slowReader)
        return
    }
  }

  close(reason: CloseReason): void {
    if (this.#state.kind === 'closed') return
    this.#state = { kind: 'closed', reason }
    this.#queue = []
    this.#queuedBytes = 0
    this.outlet.end(reason)
    this.events?.closed(reason)
    const listeners = this.#closeListeners
    this.#closeListeners = null
    for (const listener of listeners ?? []) listener(reason)
  }

  checkAlive(timeoutMs: number): Promise<boolean> {
    if (this.#state.kind === 'closed') return Promise.resolve(false)
    return this.outlet.checkAlive(timeoutMs)
  }

  onClose(listener: (reason: CloseReason) => void): Disposer {
    if (this.#state.kind === 'closed') return () => false
    const listeners = (this.#closeListeners ??= new Set())
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  /** The outlet wrote what it was given: the next queued frames go out (WriteDone). */
  written(): void {
    if (this.#state.kind !== 'writing') return
    if (this.#queue.length === 0) {
      this.#state = IDLE
      return
    }
    const frames = this.#queue
    this.#queue = []
    this.#queuedBytes = 0
    this.#write(frames)
  }

  #write(frames: readonly Uint8Array[]): void {
    try {
      this.outlet.write(frames, this)
    } catch {
      // A broken socket is this client's problem only: never let it reach the room's broadcast.
      this.close(CLOSE_REASONS.internalError)
    }
  }
}

/** 16–64 url-safe characters, as Tandem's client sends (128 random bits, base64url). */
const WRITER_KEY = /^[A-Za-z0-9_-]{16,64}$/

/**
 * What the server keeps of a writer key: its SHA-256, so neither memory nor storage holds a
 * key that would let someone write as that editor. A malformed key counts as none.
 */
export function writerKeyDigest(key: string | null | undefined): string | null {
  if (!key || !WRITER_KEY.test(key)) return null
  return createHash('sha256').update(key).digest('base64url')
}
