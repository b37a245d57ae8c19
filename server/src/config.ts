import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { isValidEndpointSecret } from './webhooks/signing.ts'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhooks/types.ts'

/**
 * The only module that reads process.env (STYLE.md 11). Every variable, its default and meaning is
 * listed here once; README's config table is checked against ENV_DOCS by a test.
 */
const boolFromEnv = z
  .enum(['0', '1', 'true', 'false'])
  .transform((value) => value === '1' || value === 'true')

const defaultClientDir = fileURLToPath(new URL('../../client/dist', import.meta.url))

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(1234),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, `:`, `_` and `-` (at most 64)')
    .default('tandem:'),
  NODE_NAME: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'lowercase letters, digits and `-` (at most 32)')
    .optional(),
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  SYNC_WRITES: boolFromEnv.default(false),
  CLIENT_DIR: z.string().min(1).default(defaultClientDir),
  MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  MAX_QUEUED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  ROOM_IDLE_MS: z.coerce.number().int().min(0).default(30_000),
  COMPACT_AFTER_ENTRIES: z.coerce.number().int().min(2).default(500),
  VERSION_PAUSE_MS: z.coerce.number().int().min(50).default(30_000),
  LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(1000).default(15_000),
  SSE_RETRY_MS: z.coerce.number().int().min(100).default(2_000),
  POLL_TIMEOUT_MS: z.coerce.number().int().min(0).max(25_000).default(25_000),
  POLL_SESSION_IDLE_MS: z.coerce.number().int().min(1_000).default(40_000),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(256),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).default(10_000),
  MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).default(10_000),
  WS_PING_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'must be an http(s) URL without query or fragment')
    .optional(),
  WEBHOOK_ALLOW_PRIVATE: boolFromEnv.default(false),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_DEBOUNCE_MS: z.coerce.number().int().min(0).default(2_000),
  WEBHOOK_MAX_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(20),
  WEBHOOK_DISABLE_AFTER_MS: z.coerce.number().int().min(0).default(86_400_000),
  WEBHOOK_URL: z
    .string()
    .regex(/^https?:\/\//, 'must be an http(s) URL')
    .optional(),
  WEBHOOK_SECRET: z
    .string()
    .refine(isValidEndpointSecret, 'must be whsec_ followed by 24–64 bytes in base64')
    .optional(),
  WEBHOOK_EVENTS: z
    .string()
    .default(WEBHOOK_EVENT_TYPES.join(','))
    .transform((value) => value.split(',').map((event) => event.trim()))
    .pipe(z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1)),
})

/** Each variable's value when the environment is empty, as validated (README's default column). */
export function envDefaults(): z.output<typeof envSchema> {
  return envSchema.parse({})
}

export const ENV_DOCS: Record<keyof z.input<typeof envSchema>, string> = {
  PORT: 'TCP port to listen on (0 picks a free port)',
  HOST: 'interface to bind',
  DATA_DIR: 'directory of the embedded LevelDB database (unused with DATABASE_URL)',
  DATABASE_URL:
    'PostgreSQL URL: documents, versions, link keys and the webhook outbox live there instead of LevelDB',
  REDIS_URL:
    'Redis URL (with DATABASE_URL): cluster mode, edits and presence reach every node serving a document',
  REDIS_PREFIX: 'prefix of every Redis channel and key, so clusters can share one Redis',
  NODE_NAME:
    'this node’s name in logs and in long-poll session ids (the proxy’s routing key); default: random',
  TRUSTED_PROXIES:
    'comma-separated proxy addresses or CIDRs whose `X-Forwarded-For` names the client (per-IP limits, logs)',
  SYNC_WRITES: 'fsync every group commit (power-loss safe, slower); `1` or `0`',
  CLIENT_DIR: 'directory of the built client served at `/`',
  MAX_MESSAGE_BYTES: 'largest WebSocket message accepted; larger ones close the connection (1009)',
  MAX_QUEUED_BYTES: 'outbound bytes queued for one client before it is closed as too slow (4408)',
  ROOM_IDLE_MS: 'how long a document with no clients stays in memory after its last write is saved',
  COMPACT_AFTER_ENTRIES: 'merge a document’s update log into one entry after this many appends',
  VERSION_PAUSE_MS:
    'an automatic version of a changed document is taken after this long without an edit (and when its last editor leaves)',
  LINK_SECRET:
    'secret that signs share links (≥ 32 chars); default: generated once into `DATA_DIR/link-secret`',
  SSE_HEARTBEAT_MS: 'interval of heartbeat comments on event streams (keep under proxy idle timeouts)',
  SSE_RETRY_MS: 'the `retry:` hint sent to event-stream clients',
  POLL_TIMEOUT_MS: 'how long a long poll is held when there is nothing to send (at most 25000)',
  POLL_SESSION_IDLE_MS:
    'a polling session with no request for this long expires (410) and its presence is removed',
  ALLOWED_ORIGINS: 'comma-separated origins allowed besides the server’s own (e.g. a dev server)',
  MAX_CONNECTIONS_PER_IP:
    'concurrent WebSocket, event-stream and poll connections per client IP (429 beyond)',
  MAX_CONNECTIONS:
    'open TCP connections in all; more are closed at once. A connection must send its first request within 10 s',
  MAX_MESSAGES_PER_SECOND:
    'messages per second one WebSocket may send (burst: twice that); faster senders are read more slowly',
  WS_PING_INTERVAL_MS: 'interval of WebSocket pings; a socket that misses one is dropped',
  METRICS_PORT:
    'port of the admin listener serving Prometheus `/metrics` (0 picks a free port); unset: no metrics. Keep it private',
  LOG_LEVEL: 'pino log level: fatal, error, warn, info, debug, trace or silent',
  ADMIN_API_KEY:
    'bearer key (≥ 16 chars) for the admin API (document list, any document, webhooks); unset: no admin access',
  PUBLIC_URL:
    'base URL the server is reached at, for links in webhook payloads; default: server-relative paths',
  WEBHOOK_ALLOW_PRIVATE:
    'allow webhook targets on loopback, private and link-local addresses (local setups, tests); metadata never',
  WEBHOOK_TIMEOUT_MS: 'time one webhook attempt may take, connect to response headers',
  WEBHOOK_DEBOUNCE_MS: '`document.updated` is sent once a document has had no change for this long…',
  WEBHOOK_MAX_WAIT_MS: '…or this long after its first unreported change, whichever comes first',
  WEBHOOK_DISABLE_AFTER_FAILURES: 'an endpoint is disabled after this many failed attempts in a row…',
  WEBHOOK_DISABLE_AFTER_MS: '…once the first of them is at least this old',
  WEBHOOK_URL: 'a webhook endpoint from the environment, receiving every document (id `ep_env`)',
  WEBHOOK_SECRET: 'its signing secret, `whsec_` + base64 (24–64 bytes); required with WEBHOOK_URL',
  WEBHOOK_EVENTS: 'comma-separated events WEBHOOK_URL receives; default: all four',
}

export interface Config {
  readonly port: number
  readonly host: string
  readonly dataDir: string
  /** DATABASE_URL: PostgreSQL instead of LevelDB (SPEC R64); null: embedded LevelDB. */
  readonly databaseUrl: string | null
  /** REDIS_URL: cross-node fan-out (SPEC R65); null: this process is the only node. */
  readonly redisUrl: string | null
  readonly redisPrefix: string
  /** NODE_NAME; null: a random name per start. */
  readonly nodeName: string | null
  /** TRUSTED_PROXIES: addresses or CIDRs whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[]
  readonly syncWrites: boolean
  readonly clientDir: string
  readonly maxMessageBytes: number
  readonly maxQueuedBytes: number
  readonly roomIdleMs: number
  readonly compactAfterEntries: number
  /** Pause in editing after which a changed document gets an automatic version (SPEC R62). */
  readonly versionPauseMs: number
  readonly logLevel: LogLevel
  /** The admin listener for `/metrics`, or null for none (SPEC R51). */
  readonly metricsPort: number | null
  readonly linkSecret: string | null
  readonly sseHeartbeatMs: number
  readonly sseRetryMs: number
  readonly pollTimeoutMs: number
  readonly pollSessionIdleMs: number
  readonly allowedOrigins: readonly string[]
  readonly maxConnectionsPerIp: number
  /** Open TCP connections in all (SPEC R30). */
  readonly maxConnections: number
  readonly maxMessagesPerSecond: number
  readonly wsPingIntervalMs: number
  readonly adminApiKey: string | null
  /** Without a trailing slash; '' when unset. */
  readonly publicUrl: string
  readonly webhookAllowPrivate: boolean
  readonly webhookTimeoutMs: number
  readonly webhookDebounceMs: number
  readonly webhookMaxWaitMs: number
  readonly webhookDisableAfterFailures: number
  readonly webhookDisableAfterMs: number
  readonly webhookEndpoint: WebhookEndpointConfig | null
}

export interface WebhookEndpointConfig {
  readonly url: string
  readonly secret: string
  readonly events: readonly WebhookEventType[]
}

export type LogLevel = z.output<typeof envSchema>['LOG_LEVEL']

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Parses an environment; throws ConfigError naming every bad variable. */
export function parseConfig(given: Record<string, string | undefined>): Config {
  // An empty variable is an unset one: compose files pass optional settings as `${VAR:-}`.
  const env = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== ''))
  const result = envSchema.safeParse(env)
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
  if (env.WEBHOOK_URL && !env.WEBHOOK_SECRET)
    problems.push('  WEBHOOK_SECRET: required when WEBHOOK_URL is set')
  if (env.REDIS_URL && !env.DATABASE_URL)
    problems.push('  REDIS_URL: needs DATABASE_URL (every node must read the same documents)')
  if (!result.success || problems.length > 0)
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`)
  const e = result.data
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    nodeName: e.NODE_NAME ?? null,
    trustedProxies: e.TRUSTED_PROXIES,
    syncWrites: e.SYNC_WRITES,
    clientDir: e.CLIENT_DIR,
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    maxQueuedBytes: e.MAX_QUEUED_BYTES,
    roomIdleMs: e.ROOM_IDLE_MS,
    compactAfterEntries: e.COMPACT_AFTER_ENTRIES,
    versionPauseMs: e.VERSION_PAUSE_MS,
    logLevel: e.LOG_LEVEL,
    metricsPort: e.METRICS_PORT ?? null,
    linkSecret: e.LINK_SECRET ?? null,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    sseRetryMs: e.SSE_RETRY_MS,
    pollTimeoutMs: e.POLL_TIMEOUT_MS,
    pollSessionIdleMs: e.POLL_SESSION_IDLE_MS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    maxConnections: e.MAX_CONNECTIONS,
    maxMessagesPerSecond: e.MAX_MESSAGES_PER_SECOND,
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
    adminApiKey: e.ADMIN_API_KEY ?? null,
    publicUrl: (e.PUBLIC_URL ?? '').replace(/\/+$/, ''),
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookDebounceMs: e.WEBHOOK_DEBOUNCE_MS,
    webhookMaxWaitMs: e.WEBHOOK_MAX_WAIT_MS,
    webhookDisableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES,
    webhookDisableAfterMs: e.WEBHOOK_DISABLE_AFTER_MS,
    webhookEndpoint:
      e.WEBHOOK_URL !== undefined && e.WEBHOOK_SECRET !== undefined
        ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET, events: e.WEBHOOK_EVENTS }
        : null,
  }
}

export function configFromProcessEnv(): Config {
  return parseConfig(process.env)
}
