import type { AppendEntry, DocStore } from '../persistence/DocStore.ts'
import type { Disposer, Intake } from './types.ts'

export type PersistStatus = 'ok' | 'failing'

export interface PersisterOptions {
  /** First retry delay after a failed write; doubles up to `maxRetryDelayMs` (R8). */
  readonly retryDelayMs: number
  readonly maxRetryDelayMs: number
  readonly onError?: (error: unknown, attempt: number) => void
  /** Told after every write attempt of a group commit (metrics); never changes the outcome. */
  readonly onBatch?: (batch: BatchReport) => void
  /** Updates not yet durable at which the server stops reading editors (R29); default 2,000. */
  readonly maxBacklog?: number
  /**
   * How long the first update of a group commit waits for others (R6); default 4 ms. A commit
   * costs a round trip to the store's thread or server whatever it carries: at a few updates per
   * millisecond, one each would cost more than the updates themselves.
   */
  readonly gatherMs?: number
  /** Bytes waiting at which a commit starts without waiting out `gatherMs`; default 256 KiB. */
  readonly gatherBytes?: number
}

export interface BatchReport {
  /** Updates in the batch, across all documents. */
  readonly entries: number
  readonly bytes: number
  readonly durationMs: number
  readonly isWritten: boolean
}

const DEFAULT_MAX_BACKLOG = 2_000
const DEFAULT_GATHER_MS = 4
const DEFAULT_GATHER_BYTES = 256 * 1024

type LoopState = { readonly kind: 'idle' } | { readonly kind: 'scheduled' } | { readonly kind: 'writing' }

interface Pending extends AppendEntry {
  readonly ticket: number
}

/**
 * Group commit for every room (R6): updates enqueued within a few milliseconds (or until enough
 * bytes wait) are written in one DocStore.append batch; while a batch is being written the next
 * one gathers. A ticket is durable when the batch holding it is written. A failed batch is
 * retried, before anything newer, until it succeeds: nothing is dropped and no ticket resolves
 * early (R8, STYLE.md 5). A retry cannot succeed into a store damaged by the failure: the store
 * refuses writes until it has recovered (R57).
 */
export class Persister implements Intake {
  #pending: Pending[] = []
  #pendingBytes = 0
  /** The gathering timer of the next commit, while it waits (R6). */
  #gatherTimer: NodeJS.Timeout | null = null
  #lastTicket = 0
  #durableTicket = 0
  #state: LoopState = { kind: 'idle' }
  #status: PersistStatus = 'ok'
  #isClosed = false
  readonly #waiters = new Map<number, Array<() => void>>()
  readonly #statusListeners = new Set<(status: PersistStatus) => void>()
  /** Ends the current retry delay early (on close). */
  #wake: (() => void) | null = null
  #isOverloaded = false
  readonly #relievedListeners = new Set<() => void>()
  readonly #committedListeners = new Set<(entries: readonly AppendEntry[]) => void>()

  constructor(
    private readonly store: DocStore,
    private readonly options: PersisterOptions,
  ) {}

  get status(): PersistStatus {
    return this.#status
  }

  /** Tickets enqueued but not yet durable. */
  get backlog(): number {
    return this.#lastTicket - this.#durableTicket
  }

  /**
   * Whether more is waiting to be written than the store keeps up with: transports stop reading
   * input until `onRelieved`, so memory holds a bounded backlog and intake follows the disk (R29).
   */
  get isOverloaded(): boolean {
    return this.#isOverloaded
  }

  onRelieved(listener: () => void): Disposer {
    this.#relievedListeners.add(listener)
    return () => this.#relievedListeners.delete(listener)
  }

  /**
   * Queues an update for the next group commit, with the client ids it bound to a writer key
   * (R33); returns its ticket.
   */
  enqueue(docId: string, update: Uint8Array, writers?: AppendEntry['writers']): number {
    const ticket = ++this.#lastTicket
    this.#pending.push(writers ? { docId, update, writers, ticket } : { docId, update, ticket })
    this.#pendingBytes += update.byteLength
    if (this.backlog >= this.#maxBacklog) this.#isOverloaded = true
    const gatherMs = this.options.gatherMs ?? DEFAULT_GATHER_MS
    const isFull =
      this.#pendingBytes >= (this.options.gatherBytes ?? DEFAULT_GATHER_BYTES) || this.#isOverloaded
    if (this.#state.kind === 'idle') {
      this.#state = { kind: 'scheduled' }
      if (gatherMs > 0 && !isFull) this.#gatherTimer = setTimeout(this.#startRun, gatherMs)
      else setImmediate(this.#startRun)
    } else if (isFull && this.#gatherTimer) {
      clearTimeout(this.#gatherTimer)
      this.#gatherTimer = null
      setImmediate(this.#startRun)
    }
    return ticket
  }

  readonly #startRun = (): void => {
    this.#gatherTimer = null
    void this.#run()
  }

  isDurable(ticket: number): boolean {
    return ticket <= this.#durableTicket
  }

  /** Resolves once `ticket` (and so every earlier ticket) is durable. Never rejects. */
  whenDurable(ticket: number): Promise<void> {
    if (this.isDurable(ticket)) return Promise.resolve()
    return new Promise((resolve) => this.afterDurable(ticket, resolve))
  }

  /**
   * Calls `callback` once `ticket` is durable (at once if it is): whenDurable without a promise
   * per update on the edit path. A callback that throws stops no other waiter.
   */
  afterDurable(ticket: number, callback: () => void): void {
    if (this.isDurable(ticket)) return callback()
    const list = this.#waiters.get(ticket)
    if (list) list.push(callback)
    else this.#waiters.set(ticket, [callback])
  }

  /**
   * Told of every batch once it is durable, in commit order: what other nodes may now be sent
   * (R65). A listener must not throw.
   */
  onCommitted(listener: (entries: readonly AppendEntry[]) => void): Disposer {
    this.#committedListeners.add(listener)
    return () => this.#committedListeners.delete(listener)
  }

  onStatus(listener: (status: PersistStatus) => void): Disposer {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  /** Waits until everything enqueued so far is durable (used by shutdown). */
  async flush(): Promise<void> {
    await this.whenDurable(this.#lastTicket)
  }

  /** Stops retrying; pending writes stay unwritten and their tickets never resolve. */
  close(): void {
    this.#isClosed = true
    if (this.#gatherTimer) clearTimeout(this.#gatherTimer)
    this.#wake?.()
  }

  async #run(): Promise<void> {
    this.#state = { kind: 'writing' }
    let attempt = 0
    while (this.#pending.length > 0 && !this.#isClosed) {
      const batch = this.#pending
      this.#pending = []
      this.#pendingBytes = 0
      const startedAt = performance.now()
      try {
        await this.store.append(batch)
        this.#report(batch, startedAt, true)
        for (const listener of this.#committedListeners) listener(batch)
        attempt = 0
        this.#markDurable(batch.at(-1)?.ticket ?? this.#durableTicket)
        this.#setStatus('ok')
      } catch (error) {
        attempt += 1
        // Keep order: the failed batch goes back in front of anything enqueued meanwhile.
        this.#pending = batch.concat(this.#pending)
        for (const entry of batch) this.#pendingBytes += entry.update.byteLength
        this.#report(batch, startedAt, false)
        this.#setStatus('failing')
        this.options.onError?.(error, attempt)
        await this.#delay(
          Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** (attempt - 1)),
        )
      }
    }
    this.#state = { kind: 'idle' }
  }

  #report(batch: readonly Pending[], startedAt: number, isWritten: boolean): void {
    if (!this.options.onBatch) return
    let bytes = 0
    for (const entry of batch) bytes += entry.update.byteLength
    this.options.onBatch({
      entries: batch.length,
      bytes,
      durationMs: performance.now() - startedAt,
      isWritten,
    })
  }

  get #maxBacklog(): number {
    return this.options.maxBacklog ?? DEFAULT_MAX_BACKLOG
  }

  #markDurable(ticket: number): void {
    this.#durableTicket = ticket
    if (this.#isOverloaded && this.backlog <= this.#maxBacklog / 2) {
      this.#isOverloaded = false
      for (const listener of this.#relievedListeners) listener()
    }
    for (const [waiting, resolvers] of this.#waiters) {
      if (waiting > ticket) continue
      this.#waiters.delete(waiting)
      for (const callback of resolvers) {
        try {
          callback()
        } catch {
          // One waiter's failure is its own (afterDurable's contract): the others still run.
        }
      }
    }
  }

  #setStatus(status: PersistStatus): void {
    if (this.#status === status) return
    this.#status = status
    for (const listener of this.#statusListeners) listener(status)
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wake = null
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.#wake = wake
    })
  }
}
