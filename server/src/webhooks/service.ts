import { randomBytes } from 'node:crypto'
import type { DocumentEvent } from '../core/events.ts'
import type { DocMeta } from '../persistence/DocStore.ts'
import type { AddressPolicy } from './addressPolicy.ts'
import type { OpenWindow, UpdateDebouncer } from './debounce.ts'
import type { EndpointTable } from './endpoints.ts'
import type { Outbox } from './outbox.ts'
import { newEndpointSecret } from './signing.ts'
import {
  WEBHOOK_EVENT_TYPES,
  isWebhookEventType,
  type Clock,
  type DeliveryRecord,
  type EndpointRecord,
  type EndpointSource,
  type UpdateWindow,
  type WebhookEventType,
  type WebhookLog,
} from './types.ts'

/** Bounds on what callers control (STYLE.md 9). */
export const WEBHOOK_LIMITS = {
  /** Per source: admin-registered and edit-token-registered endpoints each. */
  maxEndpoints: 1_000,
  /** Edit-token holders are anyone who created a document: keep each document's share small. */
  maxEndpointsPerDocument: 10,
  maxPendingPerEndpoint: 10_000,
  maxLoggedPerEndpoint: 1_000,
  maxDescriptionChars: 256,
  maxEditorNames: 50,
  maxEditorNameChars: 64,
} as const

export const ENV_ENDPOINT_ID = 'ep_env'

export interface EndpointInput {
  readonly url: string
  readonly events?: readonly string[] | undefined
  readonly docId: string | null
  readonly description?: string | undefined
}

export type ServiceError =
  | { readonly kind: 'invalid'; readonly detail: string }
  | { readonly kind: 'address-refused'; readonly detail: string }
  | { readonly kind: 'limit'; readonly detail: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'conflict'; readonly detail: string }

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ServiceError }

export interface ServiceOptions {
  readonly outbox: Outbox
  readonly endpoints: EndpointTable
  readonly policy: AddressPolicy
  readonly debouncer: () => UpdateDebouncer
  readonly getMeta: (docId: string) => Promise<DocMeta | null>
  readonly clock: Clock
  readonly log: WebhookLog
  /** Prefix of `contentUrl` in payloads, e.g. `https://tandem.example.com`; '' gives a path. */
  readonly publicUrl: string
  /** Called when deliveries were queued, so the worker looks at the queue. */
  readonly onQueued: () => void
}

/**
 * What the webhooks do, apart from sending: turn document events into queued deliveries (with
 * `document.updated` debounced, SPEC R40), manage endpoints (R41) and replay deliveries (R46).
 */
export class WebhookService {
  constructor(private readonly options: ServiceOptions) {}

  /** The DocumentEvents listener. Never throws: failures are logged and the data kept. */
  onDocumentEvent(event: DocumentEvent): void {
    switch (event.type) {
      case 'document.persisted':
        return this.#touch(event.docId, event.contributors)
      case 'document.created':
        return this.#emitNow('document.created', event.docId, event.at, {})
      case 'document.deleted': {
        // The document is gone: an update of it still waiting would point at nothing.
        const open = this.options.debouncer().cancel(event.docId)
        if (open) this.#background(this.options.outbox.deleteWindow(toRecord(open)), 'drop update window')
        return this.#emitNow('document.deleted', event.docId, event.at, {})
      }
      case 'links.reset':
        return this.#emitNow('links.reset', event.docId, event.at, {})
    }
  }

  /** A debounce window closed: queue one `document.updated` per endpoint that wants it. */
  async closeWindow(open: OpenWindow): Promise<void> {
    const window = toRecord(open)
    try {
      const endpoints = this.options.endpoints.matching('document.updated', window.docId)
      const meta = endpoints.length > 0 ? await this.options.getMeta(window.docId) : null
      if (!meta) {
        await this.options.outbox.deleteWindow(window)
        return
      }
      const data = {
        version: meta.version,
        storedBytes: meta.storedBytes,
        updatedAt: new Date(meta.updatedAt).toISOString(),
        editors: window.contributors,
        contentUrl: `${this.options.publicUrl}/api/docs/${window.docId}/text`,
      }
      await this.#enqueue('document.updated', window.docId, this.options.clock.now(), data, endpoints, {
        closedWindow: window,
      })
    } catch (error) {
      // Keep the window (STYLE.md 5): it is still on disk, and reopened here it closes again later.
      this.options.log.error({ err: error, docId: window.docId }, 'webhook update not queued; will retry')
      this.options.debouncer().restore(window)
    }
  }

  async createEndpoint(input: EndpointInput, source: EndpointSource): Promise<Result<EndpointRecord>> {
    const { endpoints, policy, clock } = this.options
    const events = parseEvents(input.events)
    if (!events.ok) return events
    const description = input.description ?? ''
    if (description.length > WEBHOOK_LIMITS.maxDescriptionChars)
      return invalid(`description longer than ${WEBHOOK_LIMITS.maxDescriptionChars} characters`)
    // Counted per source, so documents' token holders cannot use up the admin's share.
    if (endpoints.countFromSource(source) >= WEBHOOK_LIMITS.maxEndpoints)
      return fail({ kind: 'limit', detail: `at most ${WEBHOOK_LIMITS.maxEndpoints} endpoints` })
    if (
      input.docId !== null &&
      endpoints.countForDocument(input.docId) >= WEBHOOK_LIMITS.maxEndpointsPerDocument
    )
      return fail({
        kind: 'limit',
        detail: `at most ${WEBHOOK_LIMITS.maxEndpointsPerDocument} endpoints per document`,
      })
    const target = await policy.check(input.url)
    if (!target.ok) return fail({ kind: 'address-refused', detail: target.detail })
    const endpoint: EndpointRecord = {
      id: `ep_${randomBytes(12).toString('base64url')}`,
      url: target.url.href,
      events: events.value,
      docId: input.docId,
      description,
      secret: newEndpointSecret(),
      source,
      createdAt: clock.now(),
      status: { kind: 'active' },
      consecutiveFailures: 0,
      failingSince: null,
    }
    await this.options.outbox.putEndpoint(endpoint)
    endpoints.set(endpoint)
    return { ok: true, value: endpoint }
  }

  /** The endpoint from WEBHOOK_URL, created or brought up to date at startup; removed when unset. */
  async applyEnvEndpoint(
    env: { url: string; secret: string; events: readonly WebhookEventType[] } | null,
  ): Promise<void> {
    const { endpoints, outbox, clock } = this.options
    const existing = endpoints.get(ENV_ENDPOINT_ID)
    if (!env) {
      if (existing) {
        await outbox.deleteEndpoint(ENV_ENDPOINT_ID)
        endpoints.delete(ENV_ENDPOINT_ID)
      }
      return
    }
    const parsed = this.options.policy.parse(env.url)
    if (!parsed.ok) throw new Error(`WEBHOOK_URL: ${parsed.detail}`)
    const isSameTarget = existing?.url === parsed.url.href && existing.secret === env.secret
    const endpoint: EndpointRecord = {
      id: ENV_ENDPOINT_ID,
      url: parsed.url.href,
      events: [...env.events],
      docId: null,
      description: 'from WEBHOOK_URL',
      secret: env.secret,
      source: 'env',
      createdAt: existing?.createdAt ?? clock.now(),
      // A new URL or secret is a fresh start; otherwise a disabled endpoint stays disabled.
      status: isSameTarget ? existing.status : { kind: 'active' },
      consecutiveFailures: isSameTarget ? existing.consecutiveFailures : 0,
      failingSince: isSameTarget ? existing.failingSince : null,
    }
    await outbox.putEndpoint(endpoint)
    endpoints.set(endpoint)
  }

  async removeEndpoint(endpointId: string): Promise<Result<null>> {
    if (!this.options.endpoints.get(endpointId)) return fail({ kind: 'not-found' })
    if (endpointId === ENV_ENDPOINT_ID)
      return fail({ kind: 'conflict', detail: 'configured by WEBHOOK_URL; unset it to remove' })
    this.options.endpoints.delete(endpointId)
    await this.options.outbox.deleteEndpoint(endpointId)
    return { ok: true, value: null }
  }

  /** Sends to a disabled endpoint again, with a fresh failure run (R45). */
  async enableEndpoint(endpointId: string): Promise<Result<EndpointRecord>> {
    const endpoint = this.options.endpoints.get(endpointId)
    if (!endpoint) return fail({ kind: 'not-found' })
    switch (endpoint.status.kind) {
      case 'active':
        return { ok: true, value: endpoint }
      case 'revoked':
        return fail({ kind: 'conflict', detail: 'revoked by a links reset; register it again' })
      case 'disabled': {
        const enabled: EndpointRecord = {
          ...endpoint,
          status: { kind: 'active' },
          consecutiveFailures: 0,
          failingSince: null,
        }
        await this.options.outbox.putEndpoint(enabled)
        this.options.endpoints.set(enabled)
        return { ok: true, value: enabled }
      }
    }
  }

  async deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    return this.options.outbox.deliveries(endpointId, limit)
  }

  async delivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    return this.options.outbox.delivery(endpointId, deliveryId)
  }

  /** Queues a failed delivery again: same id, same body, a fresh retry budget (R46). */
  async replay(endpointId: string, deliveryId: string): Promise<Result<DeliveryRecord>> {
    const { outbox, endpoints, clock } = this.options
    const endpoint = endpoints.get(endpointId)
    const before = endpoint ? await outbox.delivery(endpointId, deliveryId) : null
    if (!endpoint || !before) return fail({ kind: 'not-found' })
    if (endpoint.status.kind !== 'active')
      return fail({ kind: 'conflict', detail: `endpoint is ${endpoint.status.kind}; enable it first` })
    if (before.state.kind !== 'failed')
      return fail({
        kind: 'conflict',
        detail: `delivery is ${before.state.kind}; only failed ones are replayed`,
      })
    const after: DeliveryRecord = {
      ...before,
      state: { kind: 'pending', nextAttemptAt: clock.now(), failures: 0 },
    }
    await outbox.settle([{ before, after }])
    endpoints.addPending(endpointId, 1)
    this.options.onQueued()
    return { ok: true, value: after }
  }

  #touch(docId: string, contributors: readonly string[]): void {
    if (!this.options.endpoints.wantsUpdates(docId)) return
    const names = contributors.map((name) => name.slice(0, WEBHOOK_LIMITS.maxEditorNameChars))
    const { isNewWindow, hasNewContributor, window } = this.options.debouncer().touch(docId, names)
    // Written only when the window opens or gains a name, not per keystroke: enough for a
    // restart to still report the change (R40).
    if (isNewWindow || hasNewContributor)
      this.#background(this.options.outbox.saveWindow(toRecord(window)), 'save update window')
  }

  #emitNow(type: WebhookEventType, docId: string, at: number, data: Record<string, unknown>): void {
    const endpoints = this.options.endpoints.matching(type, docId)
    // Endpoints registered with this document's edit token lose it with the reset (R41); they are
    // told so by this event, their last.
    const revoked =
      type === 'links.reset'
        ? this.options.endpoints
            .all()
            .filter((e) => e.source === 'edit-token' && e.docId === docId && e.status.kind !== 'revoked')
            .map((e): EndpointRecord => ({
              ...e,
              status: { kind: 'revoked', at, reason: 'the document’s links were reset' },
            }))
        : []
    for (const endpoint of revoked) this.options.endpoints.set(endpoint)
    if (endpoints.length === 0 && revoked.length === 0) return
    this.#background(this.#enqueue(type, docId, at, data, endpoints, { endpoints: revoked }), `queue ${type}`)
  }

  async #enqueue(
    type: WebhookEventType,
    docId: string,
    at: number,
    data: Record<string, unknown>,
    endpoints: readonly EndpointRecord[],
    also: { closedWindow?: UpdateWindow; endpoints?: readonly EndpointRecord[] },
  ): Promise<void> {
    const { outbox, clock, log } = this.options
    const table = this.options.endpoints
    const body = JSON.stringify({ type, timestamp: new Date(at).toISOString(), data: { docId, ...data } })
    const now = clock.now()
    const deliveries: DeliveryRecord[] = []
    for (const endpoint of endpoints) {
      if (table.pending(endpoint.id) >= WEBHOOK_LIMITS.maxPendingPerEndpoint) {
        log.warn({ endpoint: endpoint.id, type, docId }, 'webhook queue full; event not queued')
        continue
      }
      deliveries.push({
        id: newDeliveryId(now),
        endpointId: endpoint.id,
        type,
        docId,
        body,
        createdAt: now,
        attempts: 0,
        lastAttempt: null,
        state: { kind: 'pending', nextAttemptAt: now, failures: 0 },
      })
    }
    await outbox.enqueue(deliveries, also)
    for (const delivery of deliveries) {
      table.addPending(delivery.endpointId, 1)
      table.addLogged(delivery.endpointId, 1)
      if (table.logged(delivery.endpointId) > WEBHOOK_LIMITS.maxLoggedPerEndpoint * 1.1)
        this.#background(this.#prune(delivery.endpointId), 'prune delivery log')
    }
    if (deliveries.length > 0) this.options.onQueued()
  }

  async #prune(endpointId: string): Promise<void> {
    const left = await this.options.outbox.prune(endpointId, WEBHOOK_LIMITS.maxLoggedPerEndpoint)
    this.options.endpoints.setLogged(endpointId, left)
  }

  #background(work: Promise<void>, what: string): void {
    work.catch((error: unknown) => this.options.log.error({ err: error }, `webhooks: ${what} failed`))
  }
}

function toRecord(window: OpenWindow): UpdateWindow {
  return {
    docId: window.docId,
    windowId: window.windowId,
    firstAt: window.firstAt,
    contributors: [...window.contributors].slice(0, WEBHOOK_LIMITS.maxEditorNames),
  }
}

function parseEvents(events: readonly string[] | undefined): Result<WebhookEventType[]> {
  if (events === undefined) return { ok: true, value: [...WEBHOOK_EVENT_TYPES] }
  if (events.length === 0) return invalid('events must name at least one event')
  const unknown = events.filter((event) => !isWebhookEventType(event))
  if (unknown.length > 0) return invalid(`unknown events: ${unknown.join(', ')}`)
  return { ok: true, value: [...new Set(events as WebhookEventType[])] }
}

/** `msg_` + creation time (sorts the log) + 80 random bits. Also the `webhook-id` header. */
function newDeliveryId(now: number): string {
  return `msg_${now.toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`
}

function invalid(detail: string): { ok: false; error: ServiceError } {
  return fail({ kind: 'invalid', detail })
}

function fail(error: ServiceError): { ok: false; error: ServiceError } {
  return { ok: false, error }
}
