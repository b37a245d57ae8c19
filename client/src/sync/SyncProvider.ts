import {
  CLOSE_REASONS,
  decodeMessage,
  encodeBase64Url,
  encodeMessage,
  isFinalReason,
  type CloseReason,
  type Message,
} from '@tandem/shared'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { DEFAULT_BACKOFF, Sleeper, backoffDelayMs, type BackoffOptions } from './backoff.ts'
import {
  TransportPlan,
  browserConnectivity,
  browserFallbackMemory,
  checkReachability,
  type Connectivity,
  type FallbackMemory,
} from './fallback.ts'
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
  /**
   * Transaction origins of updates that another replica of this document in this browser wrote
   * into the Y.Doc (IndexedDB, another tab). They are never sent as live updates — that would claim
   * the other tab's Yjs client id for this connection (SPEC R33) — but reach the server in the next
   * resync's step 2. Load the local replica before constructing the provider: content already in
   * the document then counts as unsaved until the first resync's ack covers it (SPEC R7).
   */
  readonly replicaOrigins?: readonly unknown[]
  /** Origin of the Tandem server; defaults to the page's origin. */
  readonly baseUrl?: string
  /** WebSocket constructor; defaults to the global one (tests in Node pass `ws`). */
  readonly WebSocketImpl?: typeof WebSocket
  /** fetch for the HTTP transports and the reachability check; defaults to the global one. */
  readonly fetchImpl?: typeof fetch
  /** A transport by name (default: WebSocket to edit, SSE to view), or a ready instance. */
  readonly transport?: TransportName | ClientTransport
  readonly backoff?: BackoffOptions
  /** With a transport instance: the transport to fall back to (tests; the default plan builds its own). */
  readonly fallback?: ClientTransport
  /** Backoff of the background probes of the primary transport (R26). */
  readonly probeBackoff?: BackoffOptions
  /** Where the automatic fallback choice is remembered; defaults to localStorage (R26). */
  readonly fallbackMemory?: FallbackMemory
  /** Whether the browser has a network, and when that changes; defaults to `navigator.onLine`. */
  readonly connectivity?: Connectivity
  /** A connection that delivers no message within this time counts as failed (R26). */
  readonly firstMessageTimeoutMs?: number
  /** After this long without a message, a `ping` asks the server for one (docs/PROTOCOL.md §1.4). */
  readonly heartbeatIntervalMs?: number
  /** A connection that can send and has heard nothing for this long is dead (R12). */
  readonly silenceTimeoutMs?: number
  /** The same for a receive-only transport (SSE), which cannot ask and relies on `: ping` comments. */
  readonly receiveOnlySilenceTimeoutMs?: number
  /** How long the HTTP check after a failed attempt may take before the network counts as down. */
  readonly reachabilityTimeoutMs?: number
}

/** Background probes of the primary transport while on the fallback (R26). */
const PROBE_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 60_000 }
const FIRST_MESSAGE_TIMEOUT_MS = 3_000
/** After a server restart (1012), reconnects spread over this window instead of all at once. */
const RESTART_SPREAD_MS = 3_000
/** Silence after which a `ping` asks for a sign of life (docs/PROTOCOL.md §1.4). */
export const HEARTBEAT_INTERVAL_MS = 4_000
/**
 * Silence after which a connection is dead. A half-open TCP connection (Wi-Fi switch, laptop
 * sleep) sends nothing and reports nothing: without this, the page says "Connected" for as long
 * as the OS keeps the socket, and edits pile up unsent (R12).
 */
export const SILENCE_TIMEOUT_MS = 10_000
/** The server's `: ping` comment interval on event streams (docs/PROTOCOL.md §6). */
const SSE_HEARTBEAT_MS = 15_000
/** An event stream cannot ask for a sign of life: allow one missed comment's worth of slack. */
export const RECEIVE_ONLY_SILENCE_TIMEOUT_MS = SSE_HEARTBEAT_MS + 10_000
const REACHABILITY_TIMEOUT_MS = 5_000

/** How one connection ended (STYLE.md 6). */
type AttemptEnd =
  /** The transport closed it: with the server's catalogue reason when it gave one (close code, HTTP). */
  | {
      readonly kind: 'closed'
      readonly reason: CloseReason | null
      readonly retryAfterMs: number | undefined
    }
  /** Nothing arrived in time: no first message (R26), or a connection gone silent (R12). */
  | { readonly kind: 'silent'; readonly detail: string }
  /** The browser said it went offline; the connection was closed at once. */
  | { readonly kind: 'went-offline' }
  /** A probe found the primary transport working: the fallback was closed to move back (R26). */
  | { readonly kind: 'switching' }
  /** We could not read the server, or it denied what we sent: start over on a new connection. */
  | { readonly kind: 'dropped'; readonly detail: string }
  | { readonly kind: 'destroyed' }

interface AttemptOutcome {
  readonly end: AttemptEnd
  readonly transport: ClientTransport
  readonly hasSynced: boolean
  /** Whether any message arrived: a transport that delivers none may be blocked (R26). */
  readonly hasReceived: boolean
}

/** What the connect loop does after an attempt. */
type NextStep =
  | { readonly kind: 'connect' }
  | { readonly kind: 'refuse'; readonly reason: CloseReason }
  | {
      readonly kind: 'wait'
      readonly state: 'offline' | 'reconnecting'
      readonly reason: CloseReason | null
      readonly retryAfterMs: number | undefined
      readonly detail: string
    }

/** Per-connection bookkeeping of the saved acks (SPEC R7). */
interface AckState {
  /** step2/update messages sent on this connection; the server counts the same way. */
  sentSeq: number
  /** The ack for this seq means every local edit so far is durable. */
  coveringSeq: number
  /** Local edits only this connection's coming sync step 2 will carry (offline edits, replicas). */
  isAwaitingResync: boolean
  hasSentStep2: boolean
}

/** One connection from open to end: what the provider knows of it while it lasts. */
class Attempt {
  connection: TransportConnection | null = null
  hasSynced = false
  readonly startedAtMs = Date.now()
  /** Last frame or byte from the server (`Date.now()`: a laptop's sleep counts as silence). */
  lastHeardAtMs = this.startedAtMs
  lastPingAtMs = 0
  readonly ended: Promise<AttemptEnd>
  readonly #sleeper = new Sleeper()
  #end: AttemptEnd | null = null
  #hasReceived = false
  #resolve: (end: AttemptEnd) => void = () => undefined

  constructor(readonly transport: ClientTransport) {
    this.ended = new Promise((resolve) => (this.#resolve = resolve))
  }

  get isOver(): boolean {
    return this.#end !== null
  }

  /** Whether any frame arrived: a transport that delivers none may be blocked (R26). */
  get hasReceived(): boolean {
    return this.#hasReceived
  }

  /**
   * A frame, or any other byte (`: ping` comments, empty poll answers), arrived. The first frame
   * wakes the watchdog: the first-message deadline (R26) is over, the heartbeat takes over.
   */
  heard(what: 'frame' | 'bytes'): void {
    this.lastHeardAtMs = Date.now()
    if (what === 'bytes' || this.#hasReceived) return
    this.#hasReceived = true
    this.#sleeper.wake()
  }

  /** A wait that ends early when the attempt does. */
  sleep(ms: number): Promise<void> {
    return this.isOver ? Promise.resolve() : this.#sleeper.sleep(ms)
  }

  /** Records why the attempt ended (the first reason wins) and closes its connection. */
  end(end: AttemptEnd): void {
    if (this.#end !== null) return
    this.#end = end
    this.#sleeper.wake()
    this.connection?.close()
    this.#resolve(end)
  }
}

/**
 * Keeps a Y.Doc and its awareness in sync with the server over a ClientTransport, speaking the
 * y-websocket protocol (docs/PROTOCOL.md §1). Connects in a loop with jittered backoff, resyncs on
 * every reconnect, keeps offline edits, tells a dead network from a blocked transport and from a
 * final refusal, and reports "Saved" only when the server's ack covers every local edit.
 */
export class SyncProvider {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly #plan: TransportPlan
  readonly #canWrite: boolean
  readonly #replicaOrigins: ReadonlySet<unknown>
  readonly #connectivity: Connectivity
  readonly #reachability: { readonly baseUrl: string; readonly docId: string; readonly token: string }
  readonly #fetch: typeof fetch
  readonly #firstMessageTimeoutMs: number
  readonly #heartbeatIntervalMs: number
  readonly #silenceTimeoutMs: number
  readonly #receiveOnlySilenceTimeoutMs: number
  readonly #reachabilityTimeoutMs: number
  readonly #probeBackoff: BackoffOptions
  readonly #backoff: BackoffOptions
  readonly #listeners = new Set<(status: ProviderStatus) => void>()
  readonly #disposers: Disposer[] = []
  /** The connect loop's wait before the next attempt: retryNow(), `online` and destroy() end it. */
  readonly #retrySleeper = new Sleeper()
  readonly #probeSleeper = new Sleeper()
  readonly #lifetime = new AbortController()
  #status: ProviderStatus
  /** The connection now opening or open; null between attempts. */
  #attempt: Attempt | null = null
  #ack: AckState = { sentSeq: 0, coveringSeq: 0, isAwaitingResync: false, hasSentStep2: false }
  #hasUnsavedEdits = false
  #isPersistFailing = false
  #pingNonce = 0
  #syncedWaiters: Array<() => void> = []

  constructor(options: SyncProviderOptions) {
    this.doc = options.doc
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF
    this.#plan = createPlan(options)
    this.#canWrite = (options.mode ?? 'edit') === 'edit'
    this.#replicaOrigins = new Set(options.replicaOrigins ?? [])
    this.#connectivity = options.connectivity ?? browserConnectivity()
    this.#reachability = {
      baseUrl: options.baseUrl ?? globalThis.location.origin,
      docId: options.docId,
      token: options.token,
    }
    this.#fetch = options.fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
    this.#firstMessageTimeoutMs = options.firstMessageTimeoutMs ?? FIRST_MESSAGE_TIMEOUT_MS
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
    this.#silenceTimeoutMs = options.silenceTimeoutMs ?? SILENCE_TIMEOUT_MS
    this.#receiveOnlySilenceTimeoutMs = options.receiveOnlySilenceTimeoutMs ?? RECEIVE_ONLY_SILENCE_TIMEOUT_MS
    this.#reachabilityTimeoutMs = options.reachabilityTimeoutMs ?? REACHABILITY_TIMEOUT_MS
    this.#probeBackoff = options.probeBackoff ?? PROBE_BACKOFF
    // Content already here was loaded from this browser's replica before connecting: nothing says
    // the server has it until the first resync's step 2 is acknowledged (SPEC R7).
    this.#hasUnsavedEdits =
      this.#canWrite && this.#plan.current.canSend && Y.encodeStateVector(this.doc).byteLength > 1
    this.#status = {
      transport: this.#plan.current.name,
      connection: { kind: 'connecting', attempt: 0 },
      isSynced: false,
      save: this.#saveState(),
    }
    this.doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
    this.#disposers.push(
      () => this.doc.off('update', this.#onDocUpdate),
      () => this.awareness.off('update', this.#onAwarenessUpdate),
      this.#connectivity.onChange(this.#onConnectivity),
    )
    if (typeof window !== 'undefined') {
      const onPageHide = (): void => this.#removeLocalPresence()
      window.addEventListener('pagehide', onPageHide)
      this.#disposers.push(() => window.removeEventListener('pagehide', onPageHide))
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

  /** Ends the wait before the next attempt: connects now ("Retry now"). No-op unless waiting. */
  readonly retryNow = (): void => {
    this.#retrySleeper.wake()
  }

  destroy(): void {
    if (this.#isDestroyed()) return
    this.#removeLocalPresence()
    this.#update({ connection: { kind: 'destroyed' } })
    this.#attempt?.end({ kind: 'destroyed' })
    this.#lifetime.abort()
    this.#retrySleeper.wake()
    this.#probeSleeper.wake()
    for (const dispose of this.#disposers.splice(0)) dispose()
    this.awareness.destroy()
  }

  /** The connection lifecycle as one loop (STYLE.md 12): connect, wait for the end, judge, back off. */
  async #connectLoop(): Promise<void> {
    /** Failed attempts since the last healthy connection: the backoff exponent. */
    let failures = 0
    if (this.#plan.isOnFallback) void this.#probeLoop()
    for (let attempt = 0; !this.#isDestroyed(); attempt++) {
      this.#update({ connection: { kind: 'connecting', attempt }, transport: this.#plan.current.name })
      const outcome = await this.#runAttempt(this.#plan.current)
      if (this.#isDestroyed()) return
      const next = await this.#judge(outcome)
      if (this.#isDestroyed()) return
      switch (next.kind) {
        case 'connect':
          failures = 0
          continue
        case 'refuse':
          this.#update({ connection: { kind: 'refused', reason: next.reason } })
          return
        case 'wait': {
          // A connection that synced was healthy: reconnect quickly. Unless the server closed it
          // for what we sent (4422, 4423…) or we could not read it: the next connection would do
          // the same, so keep backing off.
          const isRejection = next.reason !== null && !next.reason.isRetryable
          const isHealthy = outcome.hasSynced && !isRejection && outcome.end.kind !== 'dropped'
          failures = isHealthy ? 0 : failures + 1
          const retryInMs = retryDelayMs(next.reason, next.retryAfterMs, failures, this.#backoff)
          this.#update({
            connection: {
              kind: next.state,
              retryInMs,
              retryAtMs: Date.now() + retryInMs,
              reason: next.reason,
              detail: next.detail,
              retryNow: this.retryNow,
            },
          })
          await this.#retrySleeper.sleep(retryInMs)
        }
      }
    }
  }

  /**
   * Why the attempt ended, and so what comes next. Only final reasons stop reconnecting (SPEC R12);
   * a transport that delivered nothing falls back only when plain HTTP to the server works (R26).
   */
  async #judge(outcome: AttemptOutcome): Promise<NextStep> {
    const { end } = outcome
    const wait = (
      state: 'offline' | 'reconnecting',
      detail: string,
      reason: CloseReason | null = null,
      retryAfterMs?: number,
    ): NextStep => ({ kind: 'wait', state, detail, reason, retryAfterMs })
    const offlineOr = (state: 'offline' | 'reconnecting'): 'offline' | 'reconnecting' =>
      this.#connectivity.isOnline() ? state : 'offline'
    switch (end.kind) {
      case 'switching':
      case 'destroyed':
        return { kind: 'connect' }
      case 'went-offline':
        return wait('offline', 'the browser went offline')
      case 'closed':
        if (end.reason !== null && isFinalReason(end.reason)) return { kind: 'refuse', reason: end.reason }
        // The server said why (1012, 4408, 4423…): it is there, this connection just ended.
        if (end.reason !== null)
          return wait(offlineOr('reconnecting'), closeDetail(end.reason), end.reason, end.retryAfterMs)
        break
      case 'silent':
      case 'dropped':
        break
    }
    const detail = end.kind === 'closed' ? 'connection closed' : end.detail
    if (!this.#connectivity.isOnline()) return wait('offline', `the browser is offline; ${detail}`)
    // It worked, then stopped (a drop, a half-open connection): reconnect over the same transport.
    if (outcome.hasReceived) return wait('reconnecting', detail)
    // Nothing arrived, and no reason: the network, a blocked transport, or a refusal the transport
    // could not see (a WebSocket refused before the upgrade closes with a bare 1006). Ask over HTTP.
    const reach = await checkReachability({
      ...this.#reachability,
      fetchImpl: this.#fetch,
      timeoutMs: this.#reachabilityTimeoutMs,
      signal: this.#lifetime.signal,
    })
    switch (reach.kind) {
      case 'unreachable':
        return wait('offline', `the server cannot be reached: ${reach.detail}`)
      case 'refused':
        return { kind: 'refuse', reason: reach.reason }
      case 'reachable':
        if (this.#plan.primaryFailed()) {
          // Blocked (a proxy refusing upgrades, or one that buffers streams): fall back at once.
          void this.#probeLoop()
          return { kind: 'connect' }
        }
        return wait('reconnecting', `${detail}, though the server answers over HTTP`)
      case 'failing':
        return wait(
          'reconnecting',
          `${detail}; the server answers HTTP ${reach.status}`,
          reach.reason,
          reach.retryAfterMs,
        )
    }
  }

  /** While on the fallback, probe the primary with backoff; switch back when it answers (R26). */
  async #probeLoop(): Promise<void> {
    for (let attempt = 0; this.#plan.isOnFallback && !this.#isDestroyed(); attempt++) {
      await this.#probeSleeper.sleep(backoffDelayMs(attempt, this.#probeBackoff))
      if (!this.#plan.isOnFallback || this.#isDestroyed()) return
      if (await this.#probe(this.#plan.primary)) {
        this.#plan.primaryWorks()
        this.#attempt?.end({ kind: 'switching' })
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
          {
            onOpen: () => undefined,
            onFrame: () => settle(true),
            onAlive: () => undefined,
            onClose: () => settle(false),
          },
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

  /** One connection, from open to end. */
  async #runAttempt(transport: ClientTransport): Promise<AttemptOutcome> {
    const attempt = new Attempt(transport)
    this.#attempt = attempt
    this.#ack = {
      sentSeq: 0,
      coveringSeq: 0,
      isAwaitingResync: this.#hasUnsavedEdits,
      hasSentStep2: false,
    }
    const handlers: TransportHandlers = {
      onOpen: () => {
        if (attempt.isOver) return
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
        if (attempt.isOver) return
        attempt.heard('frame')
        if (this.#handleFrame(frame) === 'synced') attempt.hasSynced = true
      },
      onAlive: () => {
        if (!attempt.isOver) attempt.heard('bytes')
      },
      onClose: (reason, retryAfterMs) => attempt.end({ kind: 'closed', reason, retryAfterMs }),
    }
    try {
      const connection = transport.open(handlers, { stateVector: () => Y.encodeStateVector(this.doc) })
      // A transport may report its end from inside open(); then this connection is already over.
      if (attempt.isOver) connection.close()
      else attempt.connection = connection
    } catch {
      // e.g. a malformed URL: a failed attempt like any other.
      attempt.end({ kind: 'closed', reason: null, retryAfterMs: undefined })
    }
    void this.#watch(attempt)
    const end = await attempt.ended
    this.#attempt = null
    this.#isPersistFailing = false
    if (!this.#isDestroyed()) {
      // Others' presence is only known through the server; without it, it is stale.
      const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID)
      awarenessProtocol.removeAwarenessStates(this.awareness, others, this)
      this.#update({ isSynced: false, save: this.#saveState() })
    }
    return { end, transport, hasSynced: attempt.hasSynced, hasReceived: attempt.hasReceived }
  }

  /**
   * The attempt's watchdog (R12, R26): ends an attempt that delivers no first message in time;
   * then, over a transport that can send, pings after a heartbeat interval of silence, and ends
   * a connection silent for the silence timeout. Any frame or byte counts as a sign of life.
   */
  async #watch(attempt: Attempt): Promise<void> {
    const canPing = attempt.transport.canSend
    const silenceTimeoutMs = canPing ? this.#silenceTimeoutMs : this.#receiveOnlySilenceTimeoutMs
    while (!attempt.isOver) {
      const nowMs = Date.now()
      if (!attempt.hasReceived) {
        const leftMs = attempt.startedAtMs + this.#firstMessageTimeoutMs - nowMs
        if (leftMs <= 0) {
          attempt.end({ kind: 'silent', detail: `no message within ${this.#firstMessageTimeoutMs} ms` })
          return
        }
        await attempt.sleep(leftMs)
        continue
      }
      const silentMs = nowMs - attempt.lastHeardAtMs
      if (silentMs >= silenceTimeoutMs) {
        attempt.end({ kind: 'silent', detail: `no message for ${silentMs} ms` })
        return
      }
      const quietSinceMs = Math.max(attempt.lastHeardAtMs, attempt.lastPingAtMs)
      if (canPing && nowMs - quietSinceMs >= this.#heartbeatIntervalMs) {
        attempt.lastPingAtMs = nowMs
        this.#pingNonce += 1
        this.#send({ type: 'ping', nonce: this.#pingNonce })
      }
      const nextPingAtMs = canPing
        ? Math.max(attempt.lastHeardAtMs, attempt.lastPingAtMs) + this.#heartbeatIntervalMs
        : Number.POSITIVE_INFINITY
      await attempt.sleep(Math.min(nextPingAtMs, attempt.lastHeardAtMs + silenceTimeoutMs) - nowMs)
    }
  }

  #handleFrame(frame: Uint8Array): 'synced' | undefined {
    let message: Message
    try {
      message = decodeMessage(frame)
    } catch {
      // A frame we cannot read means we disagree with the server on the protocol: start over.
      this.#attempt?.end({ kind: 'dropped', detail: 'unreadable message from the server' })
      return undefined
    }
    switch (message.type) {
      case 'sync-step1':
        this.#sendUpdate('sync-step2', Y.encodeStateAsUpdate(this.doc, message.stateVector))
        this.#ack.isAwaitingResync = false
        this.#ack.hasSentStep2 = true
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
        this.#attempt?.end({ kind: 'dropped', detail: `denied: ${message.reason}` })
        return undefined
      case 'saved':
        if (message.seq >= this.#ack.coveringSeq && !this.#ack.isAwaitingResync) this.#hasUnsavedEdits = false
        this.#update({ save: this.#saveState() })
        return undefined
      case 'persistence':
        this.#isPersistFailing = message.state === 'failing'
        this.#update({ save: this.#saveState() })
        return undefined
      case 'pong':
        // Its arrival is the sign of life (onFrame noted it); which ping it answers does not matter.
        return undefined
      case 'ping':
        // Only clients ask (docs/PROTOCOL.md §1.4); a server's ping asks nothing of us.
        return undefined
    }
  }

  #saveState(): SaveState {
    if (this.#isPersistFailing) return 'failing'
    return this.#hasUnsavedEdits ? 'saving' : 'saved'
  }

  #send(message: Message): void {
    const attempt = this.#attempt
    if (attempt?.transport.canSend) attempt.connection?.send(encodeMessage(message))
  }

  /** Sends a step2/update and counts it the way the server does (SPEC R7). */
  #sendUpdate(type: 'sync-step2' | 'sync-update', update: Uint8Array): void {
    if (!this.#attempt?.connection) return
    this.#ack.sentSeq += 1
    if (this.#hasUnsavedEdits) this.#ack.coveringSeq = this.#ack.sentSeq
    this.#send({ type, update })
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    // A viewer's document only changes through the server; nothing local is ever sent (R20).
    if (origin === this || !this.#canWrite) return
    if (!this.#plan.current.canSend) return
    if (this.#replicaOrigins.has(origin)) {
      this.#onReplicaUpdate()
      return
    }
    this.#hasUnsavedEdits = true
    this.#update({ save: this.#saveState() })
    // Offline edits stay in the doc; the next connection's sync step 2 carries them.
    if (this.#status.connection.kind === 'connected') this.#sendUpdate('sync-update', update)
  }

  /**
   * Another replica's update (IndexedDB, another tab). Never sent live: that would claim the other
   * tab's Yjs client id for this connection (SPEC R33); the replica that made it sends it. Our
   * next step 2 carries it too: until that step 2 is acknowledged, it is unsaved here (SPEC R7).
   * Once this connection's step 2 is out, nothing of ours will carry it, so it is not waited for.
   */
  #onReplicaUpdate(): void {
    if (this.#attempt !== null && this.#ack.hasSentStep2) return
    this.#hasUnsavedEdits = true
    this.#ack.isAwaitingResync = true
    this.#update({ save: this.#saveState() })
  }

  readonly #onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (!this.#canWrite) return
    if (origin === 'local') {
      const changed = added.concat(updated, removed)
      this.#send({
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
      })
      return
    }
    // The server removed our own presence (it dropped a stale connection of ours, SPEC R36).
    // y-protocols keeps a local state a remote removes and bumps its clock; announcing it again,
    // as stock y-websocket does, is how the server and everyone else learn we are still here.
    if (removed.includes(this.doc.clientID) && this.awareness.getLocalState() !== null) {
      this.#send({
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]),
      })
    }
  }

  /**
   * `offline`: the network is gone, so is the connection — close it now instead of waiting for the
   * heartbeat to notice. `online`: try at once rather than at the end of the backoff (SPEC R12).
   */
  readonly #onConnectivity = (isOnline: boolean): void => {
    if (isOnline) {
      this.#retrySleeper.wake()
      this.#probeSleeper.wake()
      return
    }
    if (this.#attempt !== null) {
      this.#attempt.end({ kind: 'went-offline' })
      return
    }
    const connection = this.#status.connection
    if (connection.kind === 'reconnecting')
      this.#update({ connection: { ...connection, kind: 'offline', detail: 'the browser went offline' } })
  }

  #removeLocalPresence(): void {
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'local')
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

/** Jittered backoff, never sooner than the server asked (R34), spread after a restart (R35). */
function retryDelayMs(
  reason: CloseReason | null,
  retryAfterMs: number | undefined,
  failures: number,
  backoff: BackoffOptions,
): number {
  let delay = backoffDelayMs(failures, backoff)
  if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs)
  if (reason === CLOSE_REASONS.serverShutdown) delay = Math.max(delay, Math.random() * RESTART_SPREAD_MS)
  return Math.round(delay)
}

function closeDetail(reason: CloseReason): string {
  return `closed by the server: ${reason.text} (${reason.code})`
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
  const fetchImpl = options.fetchImpl
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
        ...(fetchImpl && { fetchImpl }),
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
        ...(fetchImpl && { fetchImpl }),
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
