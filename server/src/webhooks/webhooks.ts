import type { FastifyInstance } from 'fastify'
import type { AccessResult } from '../auth/access.ts'
import type { DocumentEvents } from '../core/events.ts'
import type { DocMeta } from '../persistence/DocStore.ts'
import { AddressPolicy, type ResolveHost } from './addressPolicy.ts'
import { DEFAULT_RETRY_POLICY } from './backoff.ts'
import { UpdateDebouncer } from './debounce.ts'
import { EndpointTable } from './endpoints.ts'
import { sendHttp, type Send } from './httpSender.ts'
import { Outbox, type WebhookDb } from './outbox.ts'
import { registerWebhookRoutes } from './routes.ts'
import { EventIntake } from './intake.ts'
import { WebhookService } from './service.ts'
import {
  WEBHOOK_LIMITS,
  systemClock,
  type Clock,
  type RetryPolicy,
  type WebhookEventType,
  type WebhookLog,
} from './types.ts'
import { DeliveryWorker } from './worker.ts'

/** The webhook settings from config.ts (README lists the variables). */
export interface WebhooksConfig {
  /** ADMIN_API_KEY; null turns the admin routes off (document-scoped ones still work). */
  readonly adminApiKey: string | null
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private and link-local targets allowed (local setups, tests). */
  readonly allowPrivate: boolean
  /** WEBHOOK_TIMEOUT_MS: one attempt, connect to response headers. */
  readonly timeoutMs: number
  /** WEBHOOK_DEBOUNCE_MS and WEBHOOK_MAX_WAIT_MS (R40). */
  readonly debounceQuietMs: number
  readonly debounceMaxWaitMs: number
  /** WEBHOOK_DISABLE_AFTER_FAILURES and WEBHOOK_DISABLE_AFTER_MS (R45). */
  readonly disableAfterFailures: number
  readonly disableAfterMs: number
  /** PUBLIC_URL: prefix of links in payloads; '' gives server-relative paths. */
  readonly publicUrl: string
  /** WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_EVENTS: one endpoint from the environment, or null. */
  readonly envEndpoint: {
    readonly url: string
    readonly secret: string
    readonly events: readonly WebhookEventType[]
  } | null
  /** SYNC_WRITES: fsync outbox writes like document writes. */
  readonly syncWrites: boolean
  /** The retry schedule; DEFAULT_RETRY_POLICY unless a test shortens it. */
  readonly retry?: RetryPolicy
}

export interface WebhooksOptions {
  /** A sublevel of the documents' database: `LevelStore.sublevel('webhooks')`. */
  readonly db: WebhookDb
  readonly events: Pick<DocumentEvents, 'on'>
  readonly getMeta: (docId: string) => Promise<DocMeta | null>
  /** The document's title for `document.updated` payloads (R60); null or absent leaves it out. */
  readonly getTitle?: (docId: string) => Promise<string | null>
  readonly checkAccess: (docId: string, token: string | null) => Promise<AccessResult>
  readonly config: WebhooksConfig
  readonly log: WebhookLog
  /** Boundaries for tests; production uses the real ones. */
  readonly clock?: Clock
  readonly random?: () => number
  readonly send?: Send
  readonly resolveHost?: ResolveHost
}

export interface Webhooks {
  /** Mounts `/api/webhooks…` and `/api/docs/:id/webhooks…` (docs/PROTOCOL.md §9.2). */
  register(app: FastifyInstance): void
  /** Deliveries waiting to be sent, over all endpoints (a gauge, SPEC R51). */
  readonly pendingDeliveries: number
  /**
   * Stops sending (aborted attempts stay pending, same id) and waits for outbox writes. Call
   * after the registry has flushed (so the last edits' events are in) and before the store closes.
   */
  close(): Promise<void>
}

const MAX_CONCURRENT_SENDS = 16
const MAX_SENDS_PER_ENDPOINT = 4

/**
 * Builds the webhook module over the documents' LevelDB: loads endpoints and open debounce windows,
 * applies WEBHOOK_URL, subscribes to document events and starts the delivery worker.
 */
export async function createWebhooks(options: WebhooksOptions): Promise<Webhooks> {
  const { config, log } = options
  const clock = options.clock ?? systemClock
  const outbox = new Outbox(options.db, config.syncWrites)
  const endpoints = new EndpointTable(await outbox.endpoints(), await outbox.counts())
  const policy = new AddressPolicy(config.allowPrivate, options.resolveHost)
  const worker = new DeliveryWorker({
    outbox,
    endpoints,
    policy,
    send: options.send ?? sendHttp,
    clock,
    random: options.random ?? Math.random,
    retry: config.retry ?? DEFAULT_RETRY_POLICY,
    timeoutMs: config.timeoutMs,
    disableAfterFailures: config.disableAfterFailures,
    disableAfterMs: config.disableAfterMs,
    maxConcurrent: MAX_CONCURRENT_SENDS,
    maxPerEndpoint: MAX_SENDS_PER_ENDPOINT,
    log,
  })
  const service = new WebhookService({ outbox, endpoints, policy, clock, onQueued: () => worker.wake() })
  const intake: EventIntake = new EventIntake({
    outbox,
    endpoints,
    debouncer: () => debouncer,
    getMeta: options.getMeta,
    ...(options.getTitle ? { getTitle: options.getTitle } : {}),
    clock,
    log,
    publicUrl: config.publicUrl.replace(/\/+$/, ''),
    onQueued: () => worker.wake(),
  })
  const debouncer = new UpdateDebouncer(
    {
      quietMs: config.debounceQuietMs,
      maxWaitMs: config.debounceMaxWaitMs,
      maxContributors: WEBHOOK_LIMITS.maxEditorNames,
      clock,
    },
    (window) => void intake.closeWindow(window),
  )
  await service.applyEnvEndpoint(config.envEndpoint)
  // Windows a previous run left open (it stopped or crashed while people were typing) still report.
  for (const window of await outbox.windows()) debouncer.restore(window)
  const unsubscribe = options.events.on((event) => intake.onDocumentEvent(event))
  worker.start()

  let closing: Promise<void> | null = null
  return {
    get pendingDeliveries() {
      let count = 0
      for (const endpoint of endpoints.all()) count += endpoints.pending(endpoint.id)
      return count
    },
    register(app) {
      registerWebhookRoutes(app, {
        service,
        endpoints,
        adminApiKey: config.adminApiKey,
        checkAccess: options.checkAccess,
        getMeta: options.getMeta,
      })
    },
    close() {
      closing ??= (async () => {
        unsubscribe()
        // Open windows are on disk already; the next start reopens them.
        debouncer.dispose()
        await worker.close()
        await outbox.drain()
      })()
      return closing
    },
  }
}
