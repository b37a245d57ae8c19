import {
  CLOSE_REASONS,
  decodeMessage,
  encodeBase64Url,
  encodeMessage,
  type CloseReason,
  type Message,
} from '@tandem/shared'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffOptions } from './backoff.ts'
import { TransportPlan, browserFallbackMemory, type FallbackMemory } from './fallback.ts'
import { LongPollTransport } from './longPollTransport.ts'
import { SseTransport } from './sseTransport.ts'
import {
  WebSocketTransport,
  webSocketUrl,
  type ClientTransport,
  type TransportConnection,
  type TransportHandlers,
} from './transport.ts'
import type { Disposer, ProviderStatus, SaveState, SyncMode, TransportName } from './types.ts'

export interface SyncProviderOptions {
  readonly doc: Y.Doc
  readonly docId: string
  /** The share-link token (edit or view) from the link the user opened (SPEC R17). */
  readonly token: string
  /** `view` never sends edits or presence; defaults to `edit`. */
  readonly mode?: SyncMode
  /** Name shown to editors for a viewer (SPEC R21). */
  readonly viewerName?: string
  /**
   * This editor's writer key (docs/PROTOCOL.md §2): the server binds the Yjs client ids it writes
   * to it, so nobody else can extend them while it is offline (SPEC R33). Random by default.
   */
  readonly writerKey?: string
  /** Origin of the Tandem server; defaults to the page's origin. */
  readonly baseUrl?: string
  /** WebSocket constructor; defaults to the global one (tests in Node pass `ws`). */
  readonly WebSocketImpl?: typeof WebSocket
  /** A transport by name (default: WebSocket to edit, SSE to view), or a ready instance. */
  readonly transport?: TransportName | ClientTransport
  readonly backoff?: BackoffOptions
  /** With a transport instance: the transport to fall back to (tests; the default plan builds its own). */
  readonly fallback?: ClientTransport
  /** Backoff of the background probes of the primary transport (R26). */
  readonly probeBackoff?: BackoffOptions
  /** Where the automatic fallback choice is remembered; defaults to localStorage (R26). */
  readonly fallbackMemory?: FallbackMemory
  /** A connection that delivers no message within this time counts as failed (R26). */
  readonly firstMessageTimeoutMs?: number
}

/** Background probes of the primary transport while on the fallback (R26). */
const PROBE_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 60_000 }
const FIRST_MESSAGE_TIMEOUT_MS = 3_000
/** After a server restart (1012), reconnects spread over this window instead of all at once. */
const RESTART_SPREAD_MS = 3_000

/** Jittered backoff, never sooner than the server asked (R34), spread after a restart (R35). */
function retryDelayMs(outcome: AttemptOutcome, attempt: number, backoff: BackoffOptions): number {
  let delay = backoffDelayMs(attempt, backoff)
  if (outcome.retryAfterMs !== undefined) delay = Math.max(delay, outcome.retryAfterMs)
  if (outcome.reason === CLOSE_REASONS.serverShutdown)
    delay = Math.max(delay, Math.random() * RESTART_SPREAD_MS)
  return Math.round(delay)
}

/** How one connection attempt ended. */
interface AttemptOutcome {
  readonly reason: CloseReason | null
  /** The server's retry hint, if it gave one (R34). */
  readonly retryAfterMs: number | undefined
  readonly hasSynced: boolean
  /** Whether any message arrived: a transport that delivers none is blocked (R26). */
  readonly hasReceived: boolean
}

/** Per-connection bookkeeping of the saved acks (SPEC R7). */
interface AckState {
  /** step2/update messages sent on this connection; the server counts the same way. */
  sentSeq: number
  /** The ack for this seq means every local edit so far is durable. */
  coveringSeq: number
  /** Local edits from before this connection are not sent yet (they go in our sync step 2). */
  isAwaitingResync: boolean
}

/**
 * Keeps a Y.Doc and its awareness in sync with the server over a ClientTransport, speaking the
 * y-websocket protocol (docs/PROTOCOL.md §1). Connects in a loop with jittered backoff, resyncs on
 * every reconnect, keeps offline edits, and reports "Saved" only when the server's ack covers them.
 */
export class SyncProvider {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly #plan: TransportPlan
  readonly #canWrite: boolean
  readonly #firstMessageTimeoutMs: number
  readonly #probeBackoff: BackoffOptions
  readonly #backoff: BackoffOptions
  readonly #listeners = new Set<(status: ProviderStatus) => void>()
  readonly #disposers: Disposer[] = []
  #status: ProviderStatus
  #connection: TransportConnection | null = null
  #ack: AckState = { sentSeq: 0, coveringSeq: 0, isAwaitingResync: false }
  #hasUnsavedEdits = false
  #isPersistFailing = false
  readonly #wakers = new Set<() => void>()
  /** Set when a probe found the primary transport working: reconnect over it at once. */
  #isSwitching = false
  #syncedWaiters: Array<() => void> = []

  constructor(options: SyncProviderOptions) {
    this.doc = options.doc
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF
    this.#plan = createPlan(options)
    this.#canWrite = (options.mode ?? 'edit') === 'edit'
    this.#firstMessageTimeoutMs = options.firstMessageTimeoutMs ?? FIRST_MESSAGE_TIMEOUT_MS
    this.#probeBackoff = options.probeBackoff ?? PROBE_BACKOFF
    this.#status = {
      transport: this.#plan.current.name,
      connection: { kind: 'connecting', attempt: 0 },
      isSynced: false,
      save: 'saved',
    }
    this.doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
    this.#disposers.push(
      () => this.doc.off('update', this.#onDocUpdate),
      () => this.awareness.off('update', this.#onAwarenessUpdate),
    )
    if (typeof window !== 'undefined') {
      const onPageHide = (): void => this.#removeLocalPresence()
      const onOnline = (): void => this.#wakeAll()
      window.addEventListener('pagehide', onPageHide)
      window.addEventListener('online', onOnline)
      this.#disposers.push(
        () => window.removeEventListener('pagehide', onPageHide),
        () => window.removeEventListener('online', onOnline),
      )
    }
    void this.#connectLoop()
  }

  get status(): ProviderStatus {
    return this.#status
  }

  onStatus(listener: (status: ProviderStatus) => void): Disposer {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  whenSynced(): Promise<void> {
    if (this.#status.isSynced) return Promise.resolve()
    return new Promise((resolve) => this.#syncedWaiters.push(resolve))
  }

  destroy(): void {
    if (this.#status.connection.kind === 'destroyed') return
    this.#removeLocalPresence()
    this.#update({ connection: { kind: 'destroyed' } })
    this.#connection?.close()
    this.#wakeAll()
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.awareness.destroy()
  }

  /** The connection lifecycle as one loop (STYLE.md 12): connect, wait for the end, back off. */
  async #connectLoop(): Promise<void> {
    let attempt = 0
    if (this.#plan.isOnFallback) void this.#probeLoop()
    while (this.#status.connection.kind !== 'destroyed') {
      this.#update({ connection: { kind: 'connecting', attempt }, transport: this.#plan.current.name })
      const outcome = await this.#runConnection(this.#plan.current)
      if (this.#isDestroyed()) return
      if (this.#isSwitching) {
        this.#isSwitching = false
        attempt = 0
        continue
      }
      const reason = outcome.reason
      const isRefusal = reason !== null && !reason.isRetryable && reason !== CLOSE_REASONS.normal
      if (!outcome.hasReceived && !isRefusal && this.#plan.primaryFailed()) {
        // Blocked (a proxy refusing upgrades, or one that passes no frames): fall back at once.
        void this.#probeLoop()
        continue
      }
      if (isRefusal) {
        this.#update({ connection: { kind: 'refused', reason } })
        return
      }
      attempt = outcome.hasSynced ? 0 : attempt + 1
      const retryInMs = retryDelayMs(outcome, attempt, this.#backoff)
      this.#update({ connection: { kind: 'offline', retryInMs, reason } })
      await this.#sleep(retryInMs)
    }
  }

  /** While on the fallback, probe the primary with backoff; switch back when it answers (R26). */
  async #probeLoop(): Promise<void> {
    for (let attempt = 0; this.#plan.isOnFallback && !this.#isDestroyed(); attempt++) {
      await this.#sleep(backoffDelayMs(attempt, this.#probeBackoff))
      if (!this.#plan.isOnFallback || this.#isDestroyed()) return
      if (await this.#probe(this.#plan.primary)) {
        this.#plan.primaryWorks()
        this.#isSwitching = true
        this.#connection?.close()
        return
      }
    }
  }

  /** Opens a transport only to see whether a first message arrives; sends nothing. */
  #probe(transport: ClientTransport): Promise<boolean> {
    return new Promise((resolve) => {
      let connection: TransportConnection | null = null
      const settle = (works: boolean): void => {
        clearTimeout(timer)
        resolve(works)
        connection?.close()
      }
      const timer = setTimeout(() => settle(false), this.#firstMessageTimeoutMs)
      try {
        connection = transport.open(
          { onOpen: () => undefined, onFrame: () => settle(true), onClose: () => settle(false) },
          { stateVector: () => Y.encodeStateVector(this.doc), isProbe: true },
        )
      } catch {
        settle(false)
      }
    })
  }

  #isDestroyed(): boolean {
    return this.#status.connection.kind === 'destroyed'
  }

  /** One connection, from open to close. Resolves when it has ended. */
  #runConnection(transport: ClientTransport): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let hasSynced = false
      let hasReceived = false
      // Not open, or open but silent, after the timeout: treat as blocked (R26).
      const silence = setTimeout(() => this.#connection?.close(), this.#firstMessageTimeoutMs)
      this.#ack = { sentSeq: 0, coveringSeq: 0, isAwaitingResync: this.#hasUnsavedEdits }
      const handlers: TransportHandlers = {
        onOpen: () => {
          this.#update({ connection: { kind: 'connected' } })
          this.#send({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) })
          if (this.#canWrite && this.awareness.getLocalState() !== null) {
            this.#send({
              type: 'awareness',
              update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]),
            })
          }
        },
        onFrame: (frame) => {
          hasReceived = true
          clearTimeout(silence)
          if (this.#handleFrame(frame) === 'synced') hasSynced = true
        },
        onClose: (reason, retryAfterMs) => {
          clearTimeout(silence)
          this.#connection = null
          this.#isPersistFailing = false
          // Others' presence is only known through the server; without it, it is stale.
          const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID)
          awarenessProtocol.removeAwarenessStates(this.awareness, others, this)
          if (!this.#isDestroyed()) this.#update({ isSynced: false, save: this.#saveState() })
          resolve({ reason, retryAfterMs, hasSynced, hasReceived })
        },
      }
      try {
        this.#connection = transport.open(handlers, { stateVector: () => Y.encodeStateVector(this.doc) })
      } catch {
        // e.g. a malformed URL: treat as a failed attempt and back off.
        clearTimeout(silence)
        resolve({ reason: null, retryAfterMs: undefined, hasSynced: false, hasReceived: false })
      }
    })
  }

  #handleFrame(frame: Uint8Array): 'synced' | undefined {
    let message: Message
    try {
      message = decodeMessage(frame)
    } catch {
      // A frame we cannot read means we disagree with the server on the protocol: start over.
      this.#connection?.close()
      return undefined
    }
    switch (message.type) {
      case 'sync-step1':
        this.#sendUpdate('sync-step2', Y.encodeStateAsUpdate(this.doc, message.stateVector))
        this.#ack.isAwaitingResync = false
        return undefined
      case 'sync-step2':
        Y.applyUpdate(this.doc, message.update, this)
        this.#update({ isSynced: true })
        for (const resolve of this.#syncedWaiters.splice(0)) resolve()
        return 'synced'
      case 'sync-update':
        Y.applyUpdate(this.doc, message.update, this)
        return undefined
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, this)
        return undefined
      case 'query-awareness':
        this.#send({
          type: 'awareness',
          update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [
            ...this.awareness.getStates().keys(),
          ]),
        })
        return undefined
      case 'auth-denied':
        this.#connection?.close()
        return undefined
      case 'saved':
        if (message.seq >= this.#ack.coveringSeq && !this.#ack.isAwaitingResync) this.#hasUnsavedEdits = false
        this.#update({ save: this.#saveState() })
        return undefined
      case 'persistence':
        this.#isPersistFailing = message.state === 'failing'
        this.#update({ save: this.#saveState() })
        return undefined
    }
  }

  #saveState(): SaveState {
    if (this.#isPersistFailing) return 'failing'
    return this.#hasUnsavedEdits ? 'saving' : 'saved'
  }

  #send(message: Message): void {
    if (this.#plan.current.canSend) this.#connection?.send(encodeMessage(message))
  }

  /** Sends a step2/update and counts it the way the server does (SPEC R7). */
  #sendUpdate(type: 'sync-step2' | 'sync-update', update: Uint8Array): void {
    if (!this.#connection) return
    this.#ack.sentSeq += 1
    if (this.#hasUnsavedEdits) this.#ack.coveringSeq = this.#ack.sentSeq
    this.#send({ type, update })
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    // A viewer's document only changes through the server; nothing local is ever sent (R20).
    if (origin === this || !this.#canWrite) return
    if (!this.#plan.current.canSend) return
    this.#hasUnsavedEdits = true
    this.#update({ save: this.#saveState() })
    // Offline edits stay in the doc; the next connection's sync step 2 carries them.
    if (this.#status.connection.kind === 'connected') this.#sendUpdate('sync-update', update)
  }

  readonly #onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin !== 'local' || !this.#canWrite) return
    const changed = added.concat(updated, removed)
    this.#send({
      type: 'awareness',
      update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
    })
  }

  #removeLocalPresence(): void {
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'local')
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.#wakers.add(wake)
    })
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake()
  }

  #update(patch: Partial<ProviderStatus>): void {
    const next = { ...this.#status, ...patch }
    if (
      next.transport === this.#status.transport &&
      next.connection === this.#status.connection &&
      next.isSynced === this.#status.isSynced &&
      next.save === this.#status.save
    ) {
      return
    }
    this.#status = next
    for (const listener of this.#listeners) listener(next)
  }
}

function createPlan(given: SyncProviderOptions): TransportPlan {
  // One key per Y.Doc, whose Yjs client id it protects: every transport, reconnect and new
  // provider of that document (a new link after a reset) writes as the same writer.
  const options =
    (given.mode ?? 'edit') === 'edit'
      ? { ...given, writerKey: given.writerKey ?? writerKeyOf(given.doc) }
      : given
  const memory = options.fallbackMemory ?? browserFallbackMemory()
  if (options.transport !== undefined) {
    const forced =
      typeof options.transport === 'string' ? createTransport(options, options.transport) : options.transport
    return new TransportPlan(forced, options.fallback ?? null, memory)
  }
  const primary = createTransport(options, (options.mode ?? 'edit') === 'edit' ? 'websocket' : 'sse')
  return new TransportPlan(primary, createTransport(options, 'longpoll'), memory)
}

function createTransport(options: SyncProviderOptions, transport: TransportName): ClientTransport {
  const baseUrl = options.baseUrl ?? globalThis.location.origin
  switch (transport) {
    case 'websocket':
      return new WebSocketTransport(
        webSocketUrl(baseUrl, options.docId, options.token, options.viewerName, options.writerKey),
        options.WebSocketImpl ?? globalThis.WebSocket,
      )
    case 'sse':
      return new SseTransport({
        baseUrl,
        docId: options.docId,
        token: options.token,
        viewerName: options.viewerName ?? '',
      })
    case 'longpoll':
    case 'poll':
      return new LongPollTransport({
        baseUrl,
        docId: options.docId,
        token: options.token,
        viewerName: options.viewerName ?? '',
        writerKey: options.writerKey ?? '',
        style: transport === 'poll' ? 'short' : 'long',
      })
  }
}

const writerKeys = new WeakMap<Y.Doc, string>()

/** The document's writer key: 128 random bits, base64url, nobody can guess (SPEC R33). */
function writerKeyOf(doc: Y.Doc): string {
  let key = writerKeys.get(doc)
  if (key === undefined) {
    key = encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(16)))
    writerKeys.set(doc, key)
  }
  return key
}
