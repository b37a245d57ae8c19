import { randomBytes } from 'node:crypto'
import type { AddressPolicy } from './addressPolicy.ts'
import type { EndpointTable } from './endpoints.ts'
import type { OutboxStore } from './OutboxStore.ts'
import { newEndpointSecret } from './signing.ts'
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_LIMITS,
  isWebhookEventType,
  type Clock,
  type DeliveryRecord,
  type EndpointRecord,
  type EndpointSource,
  type WebhookEventType,
} from './types.ts'

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
  readonly outbox: OutboxStore
  readonly endpoints: EndpointTable
  readonly policy: AddressPolicy
  readonly clock: Clock
  /** Called when a replay queued a delivery, so the worker looks at the queue. */
  readonly onQueued: () => void
}

/** Managing endpoints (SPEC R41, R45) and their delivery logs and replays (R46), for the routes. */
export class WebhookService {
  constructor(private readonly options: ServiceOptions) {}

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
        // Changed as stored: another node may have changed it since this one read it.
        const enabled = await this.options.outbox.updateEndpoint(endpointId, (stored) =>
          stored.status.kind === 'disabled'
            ? { ...stored, status: { kind: 'active' }, consecutiveFailures: 0, failingSince: null }
            : stored,
        )
        if (!enabled) {
          this.options.endpoints.delete(endpointId)
          return fail({ kind: 'not-found' })
        }
        this.options.endpoints.set(enabled)
        if (enabled.status.kind === 'revoked')
          return fail({ kind: 'conflict', detail: 'revoked by a links reset; register it again' })
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
    // Only if it is still failed: another node may have replayed it meanwhile.
    const after = await outbox.replay(endpointId, deliveryId, clock.now())
    if (!after) return fail({ kind: 'conflict', detail: 'delivery is no longer failed' })
    endpoints.addPending(endpointId, 1)
    this.options.onQueued()
    return { ok: true, value: after }
  }
}

function parseEvents(events: readonly string[] | undefined): Result<WebhookEventType[]> {
  if (events === undefined) return { ok: true, value: [...WEBHOOK_EVENT_TYPES] }
  if (events.length === 0) return invalid('events must name at least one event')
  const unknown = events.filter((event) => !isWebhookEventType(event))
  if (unknown.length > 0) return invalid(`unknown events: ${unknown.join(', ')}`)
  return { ok: true, value: [...new Set(events as WebhookEventType[])] }
}

function invalid(detail: string): { ok: false; error: ServiceError } {
  return fail({ kind: 'invalid', detail })
}

function fail(error: ServiceError): { ok: false; error: ServiceError } {
  return { ok: false, error }
}
