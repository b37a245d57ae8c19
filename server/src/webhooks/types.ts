/**
 * Webhook records as stored in the outbox (docs/PROTOCOL.md §9) and the options of the module.
 * Lifecycles are discriminated unions (STYLE.md 6): an endpoint is active, disabled or revoked; a
 * delivery is pending, delivered or failed — never a combination of flags.
 */

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

export const WEBHOOK_EVENT_TYPES = [
  'document.created',
  'document.updated',
  'document.deleted',
  'links.reset',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value)
}

/** Who registered an endpoint decides who may manage it and whether a links reset revokes it (R41). */
export type EndpointSource = 'admin' | 'edit-token' | 'env'

export type EndpointStatus =
  | { readonly kind: 'active' }
  /** A long run of failed attempts (R45); only an explicit enable sends again. */
  | { readonly kind: 'disabled'; readonly at: number; readonly reason: string }
  /** Registered with an edit token of a document whose links were reset since (R41). Final. */
  | { readonly kind: 'revoked'; readonly at: number; readonly reason: string }

export interface EndpointRecord {
  readonly id: string
  readonly url: string
  readonly events: readonly WebhookEventType[]
  /** One document, or null for every document. */
  readonly docId: string | null
  readonly description: string
  /** `whsec_<base64>`: shown once when the endpoint is created, never listed (R42). */
  readonly secret: string
  readonly source: EndpointSource
  readonly createdAt: number
  readonly status: EndpointStatus
  /** Attempts that failed since the last success, across all deliveries of the endpoint (R45). */
  readonly consecutiveFailures: number
  /** When that run of failures began, or null while the endpoint is healthy. */
  readonly failingSince: number | null
}

/** Why a delivery stopped for good. Every one of them can be replayed (R46). */
export type FailedReason =
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'exhausted'; readonly attempts: number }
  | { readonly kind: 'address-refused'; readonly detail: string }
  | { readonly kind: 'endpoint-disabled' }

export type DeliveryState =
  | {
      readonly kind: 'pending'
      readonly nextAttemptAt: number
      /** Failed attempts since the delivery was queued or last replayed: drives the backoff. */
      readonly failures: number
    }
  | { readonly kind: 'delivered'; readonly at: number; readonly status: number }
  | { readonly kind: 'failed'; readonly at: number; readonly reason: FailedReason }

export interface AttemptRecord {
  readonly at: number
  readonly durationMs: number
  /** `HTTP 503`, `timeout after 10000 ms`, `connection error: ECONNREFUSED`, `refused: …`. */
  readonly result: string
}

export interface DeliveryRecord {
  /** Also the `webhook-id` header: the same on every attempt and replay (R42). */
  readonly id: string
  readonly endpointId: string
  readonly type: WebhookEventType
  readonly docId: string
  /** The exact JSON body; every attempt sends these bytes. */
  readonly body: string
  readonly createdAt: number
  readonly attempts: number
  readonly lastAttempt: AttemptRecord | null
  readonly state: DeliveryState
}

/** What a debounce window of `document.updated` has gathered (R40); persisted so a crash keeps it. */
export interface UpdateWindow {
  readonly docId: string
  readonly windowId: string
  readonly firstAt: number
  readonly contributors: readonly string[]
}

/** Timing boundary, injected so debounce and backoff can be tested without sleeping. */
export interface Clock {
  now(): number
  /** Runs `callback` after `ms`; returns its cancel. */
  schedule(ms: number, callback: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, callback) {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
}

export interface RetryPolicy {
  /** Nominal delay before the first retry; each next one is `factor` times longer. */
  readonly baseDelayMs: number
  readonly factor: number
  readonly maxDelayMs: number
  /** Retries after the first attempt before the delivery fails as exhausted. */
  readonly maxRetries: number
  /** Each delay is multiplied by a uniform factor in [1 − jitter, 1 + jitter]. */
  readonly jitter: number
}

/** Minimal logger (pino's shape), so the module can log without depending on Fastify. */
export interface WebhookLog {
  info(object: object, message: string): void
  warn(object: object, message: string): void
  error(object: object, message: string): void
}
