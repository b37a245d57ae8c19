import { decodeMessage, encodeMessage, type CloseReason, type Message } from '@tandem/shared'
import * as Y from 'yjs'
import type { Connectivity, FallbackMemory } from '../../src/sync/fallback.ts'
import type { ClientTransport, TransportConnection, TransportHandlers } from '../../src/sync/transport.ts'
import type { TransportName } from '../../src/sync/types.ts'

/**
 * Scripted transports and environments: the provider's policy (fallback, retries, heartbeat,
 * acks) is what is under test with these; real transports against real servers are in
 * syncProviderNetwork.test.ts and server/test/integration.
 */

/** What a scripted connection does once opened. */
export type Behaviour =
  /** Opens and never says anything (a blocked or buffering path). */
  | { readonly kind: 'silent' }
  /** Closes before opening, with this reason (a refused upgrade, a close code). */
  | { readonly kind: 'refuses'; readonly reason: CloseReason | null; readonly retryAfterMs?: number }
  /**
   * Acts as a Tandem server with a document of its own: step 1 on open, a step 2 for the client's
   * step 1, a `saved` ack per step 2/update, a `pong` per `ping` while `answersPings`.
   */
  | { readonly kind: 'server' }

export class ScriptedTransport implements ClientTransport {
  canSend = true
  opened = 0
  behaviour: Behaviour = { kind: 'silent' }
  answersPings = true
  /** The server side's document, as a Tandem room would hold it. */
  readonly serverDoc = new Y.Doc()
  /** Every message the client sent, per connection, in order. */
  readonly sent: Message[][] = []
  readonly connections: TransportHandlers[] = []
  #isOpen = false

  constructor(readonly name: TransportName) {}

  /** Messages of one type the client sent on connection `index` (-1: the latest). */
  sentOf<T extends Message['type']>(type: T, index = -1): Array<Extract<Message, { type: T }>> {
    const messages = this.sent.at(index) ?? []
    return messages.filter((message): message is Extract<Message, { type: T }> => message.type === type)
  }

  /** Sends a message from the server on the latest connection. */
  push(message: Message): void {
    const handlers = this.connections.at(-1)
    if (handlers && this.#isOpen) handlers.onFrame(encodeMessage(message))
  }

  open(handlers: TransportHandlers): TransportConnection {
    this.opened += 1
    this.connections.push(handlers)
    const sent: Message[] = []
    this.sent.push(sent)
    const behaviour = this.behaviour
    let isClosed = false
    let receivedSeq = 0
    const reply = (message: Message): void =>
      queueMicrotask(() => {
        if (!isClosed) handlers.onFrame(encodeMessage(message))
      })
    queueMicrotask(() => {
      if (isClosed) return
      switch (behaviour.kind) {
        case 'silent':
          handlers.onOpen()
          return
        case 'refuses':
          isClosed = true
          handlers.onClose(behaviour.reason, behaviour.retryAfterMs)
          return
        case 'server':
          this.#isOpen = true
          handlers.onOpen()
          reply({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.serverDoc) })
          return
      }
    })
    return {
      send: (frame) => {
        if (isClosed) return
        const message = decodeMessage(frame)
        sent.push(message)
        if (behaviour.kind !== 'server') return
        switch (message.type) {
          case 'sync-step1':
            reply({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.serverDoc, message.stateVector) })
            return
          case 'sync-step2':
          case 'sync-update':
            Y.applyUpdate(this.serverDoc, message.update)
            receivedSeq += 1
            reply({ type: 'saved', seq: receivedSeq })
            return
          case 'ping':
            if (this.answersPings) reply({ type: 'pong', nonce: message.nonce })
            return
          case 'awareness':
          case 'query-awareness':
          case 'auth-denied':
          case 'saved':
          case 'persistence':
          case 'pong':
            // Recorded in `sent`; nothing a test here needs answered.
            return
        }
      },
      close: () => {
        if (isClosed) return
        isClosed = true
        this.#isOpen = false
        handlers.onClose(null)
      },
    }
  }
}

/** Fallback memory in a variable, so a test sees what would be stored. */
export function memory(
  stored: TransportName | null = null,
): FallbackMemory & { stored: TransportName | null } {
  return {
    stored,
    recall() {
      return this.stored
    },
    remember(name) {
      this.stored = name
    },
    forget() {
      this.stored = null
    },
  }
}

/** The browser's network as a test controls it: `set(false)` fires `offline`, `set(true)` `online`. */
export function connectivity(isOnline = true): Connectivity & { set(isOnline: boolean): void } {
  const listeners = new Set<(isOnline: boolean) => void>()
  let current = isOnline
  return {
    isOnline: () => current,
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(next) {
      current = next
      for (const listener of listeners) listener(next)
    },
  }
}

/** What `GET /api/docs/:id` answers: the reachability check (SPEC R26). */
export type HttpAnswer = 'works' | 'unreachable' | 'not-found' | 'proxy-page'

/** A fetch for the reachability check; counts its calls. */
export function http(answer: HttpAnswer): typeof fetch & { calls: string[] } {
  const calls: string[] = []
  const fetchImpl = (input: RequestInfo | URL): Promise<Response> => {
    calls.push(urlOf(input))
    switch (answer) {
      case 'works':
        return Promise.resolve(Response.json({ id: 'd' }))
      case 'unreachable':
        return Promise.reject(new TypeError('fetch failed'))
      case 'not-found':
        return Promise.resolve(Response.json({ error: 'document not found', code: 4404 }, { status: 404 }))
      case 'proxy-page':
        return Promise.resolve(new Response('<h1>Not Found</h1>', { status: 404 }))
    }
  }
  return Object.assign(fetchImpl, { calls })
}

/** The URL a fetch was called with, whichever form it took. */
export function urlOf(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : input.toString()
}
