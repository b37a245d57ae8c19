import type { AddressPolicy } from './addressPolicy.ts'
import { judge, retryDelayMs, type Verdict } from './backoff.ts'
import type { EndpointTable } from './endpoints.ts'
import type { Send } from './httpSender.ts'
import type { ClaimTicket, DueEntry, EndpointChange, OutboxStore } from './OutboxStore.ts'
import { signedHeaders } from './signing.ts'
import type {
  Clock,
  DeliveryRecord,
  DeliveryState,
  EndpointRecord,
  RetryPolicy,
  WebhookLog,
} from './types.ts'

export interface WorkerOptions {
  readonly outbox: OutboxStore
  readonly endpoints: EndpointTable
  readonly policy: AddressPolicy
  readonly send: Send
  readonly clock: Clock
  readonly random: () => number
  readonly retry: RetryPolicy
  readonly timeoutMs: number
  /** An endpoint is disabled once this many attempts in a row failed… */
  readonly disableAfterFailures: number
  /** …and the first of them is at least this old (R45). */
  readonly disableAfterMs: number
  readonly maxConcurrent: number
  readonly maxPerEndpoint: number
  /**
   * How long a claimed delivery is this process's to attempt (R67): longer than an attempt can
   * take, since another node sends it again once the claim has run out.
   */
  readonly claimLeaseMs: number
  /**
   * The longest a pass waits for the next. On a shared store other nodes queue deliveries and
   * leave claims to run out without waking this worker, so it looks every second (R67).
   */
  readonly maxIdleMs?: number
  readonly log: WebhookLog
}

type WorkerState = { readonly kind: 'running' } | { readonly kind: 'closed' }

/** How many due entries one pass reads; more wait for the next pass. */
const SCAN_LIMIT = 256
/** A pass runs at least this often, whatever the timers say (unless `maxIdleMs` says sooner). */
const MAX_IDLE_MS = 60_000
/** After an attempt could not be recorded (a failed write), leave the delivery alone this long. */
const HOLD_AFTER_ERROR_MS = 5_000
/** After another node was found claiming a delivery at the same moment: its claim moves it on. */
const HOLD_WHEN_BUSY_MS = 1_000

/**
 * The delivery loop (STYLE.md 12, SPEC R44): read what is due from the outbox, start sends within
 * the concurrency limits, sleep until the next due time or until woken (new delivery, replay, a
 * send finished). Each attempt's outcome is written before the delivery is looked at again, so a
 * restart continues from exactly the recorded state: a crash during a send means that attempt is
 * made again, with the same `webhook-id`.
 */
export class DeliveryWorker {
  #state: WorkerState = { kind: 'running' }
  readonly #inFlight = new Map<string, AbortController>()
  readonly #perEndpoint = new Map<string, number>()
  readonly #heldUntil = new Map<string, number>()
  readonly #tasks = new Set<Promise<void>>()
  /** Endpoints just disabled whose queue is failed once their attempts in flight have settled. */
  readonly #toFail = new Set<string>()
  #isWoken = false
  #wakeSleeper: (() => void) | null = null
  #loop: Promise<void> = Promise.resolve()

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    this.#loop = this.#run()
  }

  /** Something may be due now: run a pass soon. */
  wake(): void {
    this.#isWoken = true
    this.#wakeSleeper?.()
  }

  /**
   * Stops the loop and aborts sends in flight. An aborted attempt is not recorded: the delivery is
   * still pending and goes out again after a restart, under the same id.
   */
  async close(): Promise<void> {
    if (this.#state.kind === 'closed') return
    this.#state = { kind: 'closed' }
    for (const controller of this.#inFlight.values()) controller.abort()
    this.wake()
    await this.#loop
    await Promise.all(this.#tasks)
  }

  async #run(): Promise<void> {
    while (this.#state.kind === 'running') {
      this.#isWoken = false
      let nextAt = Number.POSITIVE_INFINITY
      try {
        nextAt = await this.#pass()
      } catch (error) {
        this.options.log.error({ err: error }, 'webhook outbox could not be read; retrying')
        nextAt = this.options.clock.now() + HOLD_AFTER_ERROR_MS
      }
      if (!this.#isWoken && this.#state.kind === 'running') await this.#sleepUntil(nextAt)
    }
  }

  /** Starts what is due; returns when the next entry that is not due yet becomes due. */
  async #pass(): Promise<number> {
    const { outbox, clock, maxConcurrent, maxPerEndpoint } = this.options
    const now = clock.now()
    let nextAt = Number.POSITIVE_INFINITY
    // An attempt that finishes while the entries are read moves its delivery on (settled, or a new
    // entry at its retry time), and what was read of it is the old entry: starting that would
    // send the retry at once. Its finish wakes the loop, so the next pass reads it afresh.
    const inFlightWhileRead = new Set(this.#inFlight.keys())
    for (const entry of await outbox.due(SCAN_LIMIT, now)) {
      if (this.#state.kind !== 'running') break
      const heldUntil = this.#heldUntil.get(entry.deliveryId)
      const notBefore = Math.max(entry.at, heldUntil ?? 0)
      if (notBefore > now) {
        nextAt = Math.min(nextAt, notBefore)
        if (entry.at > now) break
        continue
      }
      if (this.#inFlight.size >= maxConcurrent) break
      if (this.#inFlight.has(entry.deliveryId) || inFlightWhileRead.has(entry.deliveryId)) continue
      if ((this.#perEndpoint.get(entry.endpointId) ?? 0) >= maxPerEndpoint) continue
      // A disabled endpoint's queue is about to be failed as a whole (#failWhenIdle).
      if (this.options.endpoints.get(entry.endpointId)?.status.kind === 'disabled') continue
      this.#launch(entry)
    }
    return nextAt
  }

  #launch(entry: DueEntry): void {
    const controller = new AbortController()
    this.#inFlight.set(entry.deliveryId, controller)
    this.#perEndpoint.set(entry.endpointId, (this.#perEndpoint.get(entry.endpointId) ?? 0) + 1)
    const task = this.#attempt(entry, controller.signal)
      .then((heldUntil) => {
        if (heldUntil === null) this.#heldUntil.delete(entry.deliveryId)
        else this.#heldUntil.set(entry.deliveryId, heldUntil)
      })
      .catch((error: unknown) => {
        // Loud, and the delivery keeps its place in the queue (STYLE.md 5): it is tried again later.
        this.options.log.error({ err: error, delivery: entry.deliveryId }, 'webhook attempt not recorded')
        this.#heldUntil.set(entry.deliveryId, this.options.clock.now() + HOLD_AFTER_ERROR_MS)
      })
      .finally(() => {
        this.#inFlight.delete(entry.deliveryId)
        const left = (this.#perEndpoint.get(entry.endpointId) ?? 1) - 1
        if (left <= 0) this.#perEndpoint.delete(entry.endpointId)
        else this.#perEndpoint.set(entry.endpointId, left)
        this.#tasks.delete(task)
        this.#failWhenIdle(entry.endpointId)
        this.wake()
      })
    this.#tasks.add(task)
  }

  /**
   * Fails a disabled endpoint's queue once none of its attempts is in flight: an attempt that was
   * out when the endpoint was disabled may have recorded a retry, and is failed along with the rest
   * instead of lingering as pending until its retry time.
   */
  #failWhenIdle(endpointId: string): void {
    if (!this.#toFail.has(endpointId) || (this.#perEndpoint.get(endpointId) ?? 0) > 0) return
    this.#toFail.delete(endpointId)
    const endpoint = this.options.endpoints.get(endpointId)
    if (endpoint?.status.kind !== 'disabled') return
    const task = this.#failPending(endpoint)
      .catch((error: unknown) =>
        this.options.log.error(
          { err: error, endpoint: endpointId },
          'webhook queue of a disabled endpoint not failed',
        ),
      )
      .finally(() => this.#tasks.delete(task))
    this.#tasks.add(task)
  }

  /** One attempt; resolves with when the delivery may be looked at again, or null for "any time". */
  async #attempt(entry: DueEntry, signal: AbortSignal): Promise<number | null> {
    const { outbox, endpoints, clock } = this.options
    // The delivery must still be pending and due on this very entry (R44): the entry may have been
    // read before the delivery's last attempt recorded its outcome. The claim also keeps every
    // other node off it until this attempt is recorded or its lease runs out (R67).
    const claim = await outbox.claim(entry, clock.now(), this.options.claimLeaseMs)
    switch (claim.kind) {
      case 'stale':
      case 'orphan':
      case 'not-due':
        return null
      case 'busy':
        return clock.now() + HOLD_WHEN_BUSY_MS
      case 'due':
        break
    }
    const { delivery, ticket } = claim
    // Not in the table yet: created on another node since the table was last read.
    const endpoint = endpoints.get(entry.endpointId) ?? (await outbox.endpoint(entry.endpointId))
    if (!endpoint) {
      // Its endpoint was just removed (its queue goes with it): drop the entry, or every pass would
      // find it due again.
      await outbox.dropDue(entry)
      return null
    }
    if (!endpoints.get(endpoint.id)) endpoints.set(endpoint)
    if (endpoint.status.kind === 'disabled') {
      await this.#record(ticket, delivery, delivery.attempts, delivery.lastAttempt, {
        kind: 'failed',
        at: clock.now(),
        reason: { kind: 'endpoint-disabled' },
      })
      return null
    }
    const startedAt = clock.now()
    const target = await this.options.policy.check(endpoint.url)
    let verdict: Verdict | { kind: 'refused'; detail: string }
    if (!target.ok) {
      verdict = { kind: 'refused', detail: target.detail }
    } else {
      const headers = signedHeaders(endpoint.secret, delivery.id, Math.floor(startedAt / 1000), delivery.body)
      const outcome = await this.options.send(
        {
          url: target.url,
          addresses: target.addresses,
          headers,
          body: delivery.body,
          timeoutMs: this.options.timeoutMs,
        },
        signal,
      )
      if (outcome.kind === 'aborted') {
        // Closing: handed back at once, so another node (or the next start) sends it, same id.
        await outbox.release(ticket)
        return null
      }
      verdict = judge(outcome)
    }
    const now = clock.now()
    const result = describe(verdict)
    const lastAttempt = { at: startedAt, durationMs: now - startedAt, result }
    // The endpoint may have changed (or gone) while the request was out: decide on its latest state.
    const current = endpoints.get(endpoint.id)
    if (!current) {
      // Removed meanwhile, with its queue: nothing to record.
      await outbox.release(ticket)
      return null
    }
    const state = this.#nextState(current, delivery, verdict, now)
    const isSuccess = verdict.kind === 'delivered'
    if (!isSuccess)
      this.options.log.info({ endpoint: current.id, delivery: delivery.id, result }, 'webhook attempt failed')
    // The failure run is counted on the endpoint as stored, which other nodes' attempts change too.
    const run = { isNewlyDisabled: false }
    const change: EndpointChange = (stored) => {
      const next = this.#afterAttempt(stored, isSuccess, now)
      run.isNewlyDisabled = stored.status.kind !== 'disabled' && next.status.kind === 'disabled'
      return next
    }
    const isRunChanging = !isSuccess || current.consecutiveFailures > 0
    const updated = await this.#record(
      ticket,
      delivery,
      delivery.attempts + 1,
      lastAttempt,
      state,
      isRunChanging ? change : undefined,
    )
    if (updated && run.isNewlyDisabled) {
      const reason = updated.status.kind === 'disabled' ? updated.status.reason : ''
      this.options.log.warn({ endpoint: updated.id, url: updated.url, reason }, 'webhook endpoint disabled')
      this.#toFail.add(updated.id)
    }
    return null
  }

  #nextState(
    endpoint: EndpointRecord,
    delivery: DeliveryRecord,
    verdict: Verdict | { kind: 'refused'; detail: string },
    now: number,
  ): DeliveryState {
    switch (verdict.kind) {
      case 'delivered':
        return { kind: 'delivered', at: now, status: verdict.status }
      case 'rejected':
        return { kind: 'failed', at: now, reason: { kind: 'rejected', status: verdict.status } }
      case 'refused':
        return { kind: 'failed', at: now, reason: { kind: 'address-refused', detail: verdict.detail } }
      case 'retry': {
        if (endpoint.status.kind === 'disabled')
          return { kind: 'failed', at: now, reason: { kind: 'endpoint-disabled' } }
        const failures = delivery.state.kind === 'pending' ? delivery.state.failures + 1 : 1
        const { retry, random } = this.options
        if (failures > retry.maxRetries)
          return { kind: 'failed', at: now, reason: { kind: 'exhausted', attempts: delivery.attempts + 1 } }
        // A receiver's Retry-After is honoured when it asks for longer than the backoff, up to the cap.
        const delay = Math.max(
          retryDelayMs(retry, failures, random),
          Math.min(verdict.notBeforeMs ?? 0, retry.maxDelayMs),
        )
        return { kind: 'pending', nextAttemptAt: now + delay, failures }
      }
    }
  }

  /** The endpoint's failure run after one attempt; disabled once the run is long enough (R45). */
  #afterAttempt(endpoint: EndpointRecord, isSuccess: boolean, now: number): EndpointRecord {
    if (isSuccess) {
      if (endpoint.consecutiveFailures === 0) return endpoint
      return { ...endpoint, consecutiveFailures: 0, failingSince: null }
    }
    const failures = endpoint.consecutiveFailures + 1
    const failingSince = endpoint.failingSince ?? now
    let next: EndpointRecord = { ...endpoint, consecutiveFailures: failures, failingSince }
    const { disableAfterFailures, disableAfterMs } = this.options
    if (
      endpoint.status.kind === 'active' &&
      failures >= disableAfterFailures &&
      now - failingSince >= disableAfterMs
    ) {
      const reason = `${failures} attempts in a row failed since ${new Date(failingSince).toISOString()}`
      next = { ...next, status: { kind: 'disabled', at: now, reason } }
    }
    return next
  }

  /**
   * Records the attempt under its claim; returns the endpoint as changed with it, or null. A claim
   * lost meanwhile (this process stalled past the lease and another node took the delivery over)
   * records nothing: the other node's attempt is the one that counts.
   */
  async #record(
    ticket: ClaimTicket,
    before: DeliveryRecord,
    attempts: number,
    lastAttempt: DeliveryRecord['lastAttempt'],
    state: DeliveryState,
    endpointChange?: EndpointChange,
  ): Promise<EndpointRecord | null> {
    const after: DeliveryRecord = { ...before, attempts, lastAttempt, state }
    const recorded = await this.options.outbox.record(ticket, after, endpointChange)
    switch (recorded.kind) {
      case 'lost':
        this.options.log.warn(
          { endpoint: ticket.endpointId, delivery: ticket.deliveryId },
          'webhook attempt not recorded: its claim ran out and another node took the delivery over',
        )
        return null
      case 'recorded':
        if (recorded.endpoint) this.options.endpoints.set(recorded.endpoint)
        if (state.kind !== 'pending') this.options.endpoints.addPending(ticket.endpointId, -1)
        return recorded.endpoint
    }
  }

  /** A disabled endpoint's queue fails at once (replayable once it is enabled again, R46). */
  async #failPending(endpoint: EndpointRecord): Promise<void> {
    const failed = await this.options.outbox.failPending(endpoint.id, this.options.clock.now())
    this.options.endpoints.addPending(endpoint.id, -failed)
  }

  #sleepUntil(at: number): Promise<void> {
    const delay = Math.min(this.options.maxIdleMs ?? MAX_IDLE_MS, Math.max(0, at - this.options.clock.now()))
    return new Promise<void>((resolve) => {
      const cancel = this.options.clock.schedule(delay, () => done())
      const done = (): void => {
        cancel()
        this.#wakeSleeper = null
        resolve()
      }
      this.#wakeSleeper = done
    })
  }
}

function describe(verdict: Verdict | { kind: 'refused'; detail: string }): string {
  switch (verdict.kind) {
    case 'delivered':
      return `HTTP ${verdict.status}`
    case 'rejected':
      return `HTTP ${verdict.status}`
    case 'retry':
      return verdict.result
    case 'refused':
      return `refused: ${verdict.detail}`
  }
}
