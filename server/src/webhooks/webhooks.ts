import type { FastifyInstance } from 'fastify'
import type { AccessResult } from '../auth/access.ts'
import type { DocumentEvents } from '../core/events.ts'
import type { DocMeta } from '../persistence/DocStore.ts'
import { AddressPolicy, type ResolveHost } from './addressPolicy.ts'
import { DEFAULT_RETRY_POLICY } from './backoff.ts'
import { UpdateDebouncer } from './debounce.ts'
import { EndpointTable } from './endpoints.ts'
import { sendHttp, type Send } from './httpSender.ts'
import type { OutboxStore } from './OutboxStore.ts'
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
import { SHARED_REFRESH_MS, startSharedSync } from './sharedSync.ts'
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
  /** The retry schedule; DEFAULT_RETRY_POLICY unless a test shortens it. */
  readonly retry?: RetryPolicy
  /**
   * How long an attempt's claim on a delivery holds (R67); `timeoutMs` + 30 s unless a test
   * shortens it. Another node sends a delivery again once the claim of a node that died ran out.
   */
  readonly claimLeaseMs?: number
}

export interface WebhooksOptions {
  /**
   * Where endpoints, windows and deliveries live (docs/PROTOCOL.md §9.6): `LevelOutboxStore` on
   * the documents' LevelDB, `PostgresOutboxStore` in a cluster, `MemoryOutboxStore` otherwise.
   */
  readonly outbox: OutboxStore
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
/** What an attempt may take beyond its timeout (address check, recording) within its claim. */
const CLAIM_MARGIN_MS = 30_000

/**
 * Builds the webhook module over its outbox: loads endpoints and open debounce windows, applies
 * WEBHOOK_URL, subscribes to document events and starts the delivery worker (and, on a store
 * other nodes share, the loop that keeps this node's view of it fresh).
 */
export async function createWebhooks(options: WebhooksOptions): Promise<Webhooks> {
  const { config, log, outbox } = options
  const clock = options.clock ?? systemClock
  const endpoints = new EndpointTable(await outbox.endpoints(), {
    logged: await outbox.countLogged(),
    pending: await outbox.countPending(),
  })
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
    claimLeaseMs: config.claimLeaseMs ?? config.timeoutMs + CLAIM_MARGIN_MS,
    ...(outbox.isShared ? { maxIdleMs: SHARED_REFRESH_MS } : {}),
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
    // `shared` exists by the time an event arrives: the subscription comes after it.
    ...(outbox.isShared ? { refresh: () => shared?.refresh() ?? Promise.resolve() } : {}),
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
  // Every node applies the same WEBHOOK_* settings at its start (README: set them alike on all).
  await service.applyEnvEndpoint(config.envEndpoint)
  // Windows a previous run left open (it stopped or crashed while people were typing) still report.
  for (const window of await outbox.adoptWindows(clock.now())) debouncer.restore(window)
  const shared = outbox.isShared
    ? startSharedSync({ outbox, endpoints, clock, log, onAdopted: (window) => debouncer.restore(window) })
    : null
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
        refresh: () => shared?.refresh() ?? Promise.resolve(),
      })
    },
    close() {
      closing ??= (async () => {
        unsubscribe()
        await shared?.stop()
        // Open windows are stored already; the next start (or another node, R67) reopens them.
        debouncer.dispose()
        await worker.close()
        await outbox
          .releaseWindows()
          .catch((error: unknown) =>
            log.warn({ err: error }, 'webhook windows not released; other nodes adopt them after their hold'),
          )
        await outbox.drain()
      })()
      return closing
    },
  }
}
