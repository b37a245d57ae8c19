import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { Level } from 'level'
import { Webhook } from 'standardwebhooks'
import { afterEach, expect } from 'vitest'
import { Access } from '../../../src/auth/access.ts'
import { LinkSigner, newLinkKey } from '../../../src/auth/links.ts'
import { DocumentEvents } from '../../../src/core/events.ts'
import { registerErrorHandler } from '../../../src/http/errors.ts'
import type { DocMeta } from '../../../src/persistence/DocStore.ts'
import { MemoryStore } from '../../../src/persistence/MemoryStore.ts'
import type { ResolveHost } from '../../../src/webhooks/addressPolicy.ts'
import { DEFAULT_RETRY_POLICY } from '../../../src/webhooks/backoff.ts'
import type { Send } from '../../../src/webhooks/httpSender.ts'
import { LevelOutboxStore } from '../../../src/webhooks/LevelOutboxStore.ts'
import type { OutboxStore } from '../../../src/webhooks/OutboxStore.ts'
import type { Clock, WebhookLog } from '../../../src/webhooks/types.ts'
import { createWebhooks, type Webhooks, type WebhooksConfig } from '../../../src/webhooks/webhooks.ts'
import { eventually } from './clients.ts'

const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'

/** One request a receiver got, with the verdict of the `standardwebhooks` package on it. */
export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly receivedAt: number
  readonly path: string
  /** Verified against the endpoint secret by `standardwebhooks` (an independent implementation). */
  readonly isVerified: boolean
  readonly payload: { type: string; timestamp: string; data: Record<string, unknown> }
}

export interface Receiver {
  readonly url: string
  readonly received: ReceivedWebhook[]
  /** The secret to verify with (set once the endpoint is registered and its secret shown). */
  secret: string | null
  /** Status (or 'hang': never answer) for the n-th request (0-based); default 200. */
  respond: (index: number, request: { path: string }) => number | 'hang'
  /** Extra response headers, e.g. `Location` for a redirect. */
  responseHeaders: Record<string, string>
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>
}

/** A real HTTP receiver on 127.0.0.1, port 0, torn down after the test (STYLE.md 14). */
export async function startReceiver(): Promise<Receiver> {
  const hung = new Set<ServerResponse>()
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const index = receiver.received.length
      const path = request.url ?? '/'
      let isVerified = false
      if (receiver.secret) {
        try {
          new Webhook(receiver.secret).verify(body, request.headers as Record<string, string>)
          isVerified = true
        } catch {
          isVerified = false
        }
      }
      receiver.received.push({
        headers: request.headers,
        body,
        path,
        receivedAt: Date.now(),
        isVerified,
        payload: JSON.parse(body) as ReceivedWebhook['payload'],
      })
      const answer = receiver.respond(index, { path })
      if (answer === 'hang') {
        hung.add(response)
        return
      }
      response.writeHead(answer, receiver.responseHeaders).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received: [],
    secret: null,
    respond: () => 200,
    responseHeaders: {},
    async waitFor(count, timeoutMs = 10_000) {
      await eventually(() => expect(receiver.received.length).toBeGreaterThanOrEqual(count), timeoutMs)
      return receiver.received
    },
  }
  cleanups.push(async () => {
    for (const response of hung) response.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return receiver
}

/** Webhook settings for tests: defaults as config.ts documents them, retries shortened. */
export function testWebhooksConfig(overrides: Partial<WebhooksConfig> = {}): WebhooksConfig {
  return {
    adminApiKey: ADMIN_KEY,
    allowPrivate: true,
    timeoutMs: 2_000,
    debounceQuietMs: 100,
    debounceMaxWaitMs: 1_000,
    disableAfterFailures: 1_000,
    disableAfterMs: 0,
    publicUrl: '',
    envEndpoint: null,
    retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, factor: 2, maxDelayMs: 1_000, maxRetries: 5 },
    ...overrides,
  }
}

export interface HarnessOptions {
  readonly config?: Partial<WebhooksConfig>
  readonly clock?: Clock
  readonly send?: Send
  readonly resolveHost?: ResolveHost
  /** An outbox of the test's own (PostgreSQL, R67) instead of LevelDB in the harness's temp dir. */
  readonly outbox?: OutboxStore
  /**
   * Documents from elsewhere — a real running server's events and store — instead of the
   * harness's own MemoryStore (then `createDoc`/`persist` are not for use).
   */
  readonly source?: {
    readonly events: DocumentEvents
    readonly getMeta: (docId: string) => Promise<DocMeta | null>
  }
}

export interface TestDoc {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
}

/**
 * The webhook module built exactly as main.ts builds it — `createWebhooks` over the `webhooks`
 * sublevel of a real LevelDB in a temp dir, fed by a `DocumentEvents`, its routes on a Fastify
 * app on port 0 — without the rest of the server. Documents live in a MemoryStore that outlives
 * `restart()`, which closes the module and the database and opens both again on the same dir.
 */
export interface WebhookHarness {
  readonly url: string
  readonly events: DocumentEvents
  readonly docs: MemoryStore
  readonly dataDir: string
  readonly logs: Array<{ level: string; message: string; object: object }>
  createDoc(): Promise<TestDoc>
  /** Appends one stored update to the document and emits `document.persisted`, as the Room does. */
  persist(docId: string, contributors?: readonly string[]): Promise<void>
  resetLinks(docId: string): Promise<TestDoc>
  /** fetch against the harness with the admin key (or `token`) as bearer. */
  api(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<Response>
  register(body: Record<string, unknown>, token?: string): Promise<{ id: string; secret: string }>
  restart(options?: HarnessOptions): Promise<WebhookHarness>
  close(): Promise<void>
}

export async function startWebhookHarness(
  options: HarnessOptions = {},
  shared?: { dataDir: string; docs: MemoryStore; signer: LinkSigner; events: DocumentEvents },
): Promise<WebhookHarness> {
  const dataDir = shared?.dataDir ?? (await mkdtemp(join(tmpdir(), 'tandem-webhooks-')))
  if (!shared) cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const docs = shared?.docs ?? new MemoryStore()
  const signer = shared?.signer ?? new LinkSigner(Buffer.alloc(32, 7))
  const events = options.source?.events ?? shared?.events ?? new DocumentEvents()
  const getMeta = options.source?.getMeta ?? ((docId: string) => docs.getMeta(docId))
  const access = new Access(docs, signer)
  // What main.ts gets from `store.sublevel('webhooks')`: utf8 keys and values.
  let db: Level<string, Uint8Array> | null = null
  let outbox = options.outbox
  if (!outbox) {
    db = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
    await db.open()
    outbox = new LevelOutboxStore(
      db.sublevel<string, string>('webhooks', { keyEncoding: 'utf8', valueEncoding: 'utf8' }),
      false,
    )
  }
  const logs: WebhookHarness['logs'] = []
  const log: WebhookLog = {
    info: (object, message) => logs.push({ level: 'info', message, object }),
    warn: (object, message) => logs.push({ level: 'warn', message, object }),
    error: (object, message) => logs.push({ level: 'error', message, object }),
  }
  const webhooks: Webhooks = await createWebhooks({
    outbox,
    events,
    getMeta,
    checkAccess: (docId, token) => access.check(docId, token),
    config: testWebhooksConfig(options.config),
    log,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.send ? { send: options.send } : {}),
    ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
  })
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true })
  registerErrorHandler(app)
  webhooks.register(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  let isClosed = false
  const close = async (): Promise<void> => {
    if (isClosed) return
    isClosed = true
    await app.close()
    await webhooks.close()
    await db?.close()
  }
  cleanups.push(close)

  const harness: WebhookHarness = {
    url,
    events,
    docs,
    dataDir,
    logs,
    async createDoc() {
      const id = `doc${Math.random().toString(36).slice(2, 10)}`
      const linkKey = newLinkKey()
      await docs.create(id, linkKey)
      events.emit({ type: 'document.created', docId: id, at: Date.now() })
      return tokens(signer, id, linkKey)
    },
    async persist(docId, contributors = ['Ada']) {
      await docs.append([{ docId, update: new Uint8Array([0, 0]) }])
      events.emit({ type: 'document.persisted', docId, contributors, at: Date.now() })
    },
    async resetLinks(docId) {
      const linkKey = newLinkKey()
      await docs.setLinkKey(docId, linkKey)
      events.emit({ type: 'links.reset', docId, at: Date.now() })
      return tokens(signer, docId, linkKey)
    },
    async api(path, init = {}) {
      const token = init.token === undefined ? ADMIN_KEY : init.token
      const headers: Record<string, string> = {}
      if (token !== null) headers.authorization = `Bearer ${token}`
      if (init.body !== undefined) headers['content-type'] = 'application/json'
      return fetch(`${url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      })
    },
    async register(body, token) {
      const response = await harness.api(
        typeof body.docId === 'string' && token ? `/api/docs/${body.docId}/webhooks` : '/api/webhooks',
        { method: 'POST', body, ...(token ? { token } : {}) },
      )
      expect(response.status, await response.clone().text()).toBe(201)
      return (await response.json()) as { id: string; secret: string }
    },
    async restart(next = options) {
      await close()
      return startWebhookHarness(next, { dataDir, docs, signer, events })
    },
    close,
  }
  return harness
}

function tokens(signer: LinkSigner, id: string, linkKey: string): TestDoc {
  return { id, editToken: signer.mint(id, 'edit', linkKey), viewToken: signer.mint(id, 'view', linkKey) }
}

export interface DeliveryView {
  id: string
  type: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  lastResult: string | null
  nextAttemptAt: string | null
  failedReason: string | null
}

/** The endpoint's delivery log through the API, newest first. */
export async function deliveryLog(
  harness: { api: WebhookHarness['api'] },
  endpointId: string,
  prefix = '/api/webhooks',
): Promise<DeliveryView[]> {
  const response = await harness.api(`${prefix}/${endpointId}/deliveries`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { deliveries: DeliveryView[] }).deliveries
}

/** A clock whose time only moves when the test says so; timers run in due order. */
export class FakeClock implements Clock {
  #now: number
  #timers: Array<{ at: number; seq: number; callback: () => void }> = []
  #seq = 0

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  schedule(ms: number, callback: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((entry) => entry !== timer)
    }
  }

  /** Moves time forward by `ms`, running every timer that comes due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const next = this.#timers
        .filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next) break
      this.#timers = this.#timers.filter((timer) => timer !== next)
      this.#now = Math.max(this.#now, next.at)
      next.callback()
    }
    this.#now = end
  }
}
