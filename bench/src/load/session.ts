import * as Y from 'yjs'
import {
  decodeMessage,
  encodeHocuspocusAuth,
  encodeStep1,
  encodeStep2,
  encodeUpdate,
} from '../protocol/messages.ts'
import { nowMs } from '../util/clock.ts'
import { Replica, digestOf } from './replica.ts'
import type { ClientSpec } from './spec.ts'
import { Writer } from './writer.ts'

type SessionState =
  | { readonly kind: 'connecting'; readonly startedAt: number }
  | { readonly kind: 'open'; readonly startedAt: number; readonly openAt: number }
  | {
      readonly kind: 'synced'
      readonly startedAt: number
      readonly openAt: number
      readonly syncedAt: number
    }
  | { readonly kind: 'failed'; readonly error: string }

/**
 * The protocol half of a client, independent of its transport: handshake, answering step 1,
 * feeding updates into the replica, Tandem's saved acks. A transport hands it decoded-frame bytes
 * (without Hocuspocus's document-name prefix) and gives it a `send`.
 */
export class Session {
  readonly replica: Replica
  readonly writer: Writer | null
  #state: SessionState = { kind: 'connecting', startedAt: nowMs() }
  #contentAt: number | null = null
  #joined: { resolve: () => void; reject: (error: Error) => void } | null = null
  readonly whenJoined: Promise<void>
  /** Tandem counts every step 2 and update a client sends; saved(seq) covers them (PROTOCOL.md §1.3). */
  #sentSeq = 0
  /** Sends not yet acknowledged, oldest first from #unackedHead (an index: shift() is O(n)). */
  readonly #unacked: Array<{ seq: number; at: number }> = []
  #unackedHead = 0
  readonly ackLatencies: number[] = []
  readonly errors: string[] = []

  constructor(
    readonly spec: ClientSpec,
    private readonly send: (message: Uint8Array) => void,
  ) {
    this.writer = spec.isWriter ? new Writer() : null
    this.replica = new Replica(spec.replica, this.writer?.clientId ?? null)
    this.whenJoined = new Promise<void>((resolve, reject) => (this.#joined = { resolve, reject }))
    // A failure before anyone awaits must not become an unhandled rejection.
    this.whenJoined.catch(() => undefined)
  }

  get isJoined(): boolean {
    return this.#state.kind === 'synced' && this.#contentAt !== null
  }

  timing(): { openMs: number; syncedMs: number; contentMs: number } {
    const state = this.#state
    if (state.kind !== 'synced' || this.#contentAt === null)
      return { openMs: NaN, syncedMs: NaN, contentMs: NaN }
    return {
      openMs: state.openAt - state.startedAt,
      syncedMs: state.syncedAt - state.startedAt,
      contentMs: this.#contentAt - state.startedAt,
    }
  }

  /** The transport is open: say hello, ask for the document. */
  opened(): void {
    if (this.#state.kind !== 'connecting') return
    const now = nowMs()
    this.#state = { kind: 'open', startedAt: this.#state.startedAt, openAt: now }
    if (this.spec.dialect === 'hocuspocus') this.send(encodeHocuspocusAuth(''))
    // An event stream cannot send: its first event is the step 2 that carries the document.
    if (this.spec.transport === 'sse') return
    if (this.spec.requestsState) {
      const own = this.replica.doc ?? this.writer?.doc ?? null
      this.send(encodeStep1(own ? Y.encodeStateVector(own) : new Uint8Array([0])))
    } else {
      this.#synced(now)
    }
  }

  failed(error: string): void {
    if (this.#state.kind === 'failed') return
    this.#state = { kind: 'failed', error }
    this.errors.push(error)
    this.#joined?.reject(new Error(`${this.spec.id}: ${error}`))
  }

  /** One protocol message from the server (or, through the relay, from another client). */
  message(bytes: Uint8Array): void {
    const now = nowMs()
    const message = decodeMessage(bytes, this.spec.dialect === 'hocuspocus')
    switch (message.kind) {
      case 'sync-step1':
        if (this.spec.answersStep1) {
          this.#sendCounted(encodeStep2(this.replica.diff(message.stateVector, this.writer?.doc ?? null)))
        }
        return
      case 'sync-step2':
        this.replica.receive(message.update, now)
        this.#synced(now)
        this.#checkContent(now)
        return
      case 'sync-update':
        this.replica.receive(message.update, now)
        this.#checkContent(now)
        return
      case 'saved': {
        for (let sent = this.#unacked[this.#unackedHead]; sent && sent.seq <= message.seq;) {
          this.ackLatencies.push(now - sent.at)
          sent = this.#unacked[++this.#unackedHead]
        }
        if (this.#unackedHead === this.#unacked.length) {
          this.#unacked.length = 0
          this.#unackedHead = 0
        }
        return
      }
      case 'denied':
        this.failed(`server denied access: ${message.reason}`)
        return
      case 'closed-by-server':
        this.failed(`server closed the document: ${message.reason}`)
        return
      case 'authenticated':
      case 'ignored':
        return
    }
  }

  /** Sends one of this client's own updates (from its Writer, or precomputed). */
  sendUpdate(update: Uint8Array): void {
    const seq = this.#sendCounted(encodeUpdate(update))
    if (this.spec.dialect === 'tandem') this.#unacked.push({ seq, at: nowMs() })
  }

  #sendCounted(message: Uint8Array): number {
    this.send(message)
    return ++this.#sentSeq
  }

  #synced(now: number): void {
    const state = this.#state
    if (state.kind !== 'open') return
    this.#state = { kind: 'synced', startedAt: state.startedAt, openAt: state.openAt, syncedAt: now }
    this.#checkContent(now)
  }

  #checkContent(now: number): void {
    if (this.#contentAt !== null || this.#state.kind !== 'synced') return
    const expect = this.spec.expect
    if (expect) {
      const text = this.replica.doc?.getText('t')
      if (!text || text.length !== expect.length) return
      if (digestOf(text.toString()).sha1 !== expect.sha1) return
    }
    this.#contentAt = now
    this.#joined?.resolve()
  }
}
