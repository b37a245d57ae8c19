import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CLOSE_REASONS } from '@tandem/shared'
import Fastify from 'fastify'
import { Access } from './auth/access.ts'
import { LinkSigner } from './auth/links.ts'
import { loadLinkSecret } from './auth/secret.ts'
import type { Config } from './config.ts'
import { randomBytes } from 'node:crypto'
import { ClusterSync } from './core/ClusterSync.ts'
import { DocumentEvents } from './core/events.ts'
import { RedisBus } from './cluster/RedisBus.ts'
import { RedisPresenceDirectory } from './cluster/RedisPresenceDirectory.ts'
import { NOBODY } from './core/presenceDirectory.ts'
import { Persister } from './core/Persister.ts'
import { documentTitle } from './core/documentTitle.ts'
import { RoomRegistry, RoomUnavailableError } from './core/RoomRegistry.ts'
import { VersionRecorder } from './core/VersionRecorder.ts'
import type { DocumentExporter } from './export/DocumentExporter.ts'
import { registerApi } from './http/api.ts'
import { registerErrorHandler, sendReason } from './http/errors.ts'
import { isHealthCheck, registerHealth } from './http/health.ts'
import { ConnectionBudget, createAdmit, isOriginAllowed, trustedProxies } from './http/limits.ts'
import { guardSockets } from './http/socketGuard.ts'
import { registerStaticClient } from './http/staticClient.ts'
import { createAuthorize } from './http/docAccess.ts'
import { registerVersionRoutes } from './http/versions.ts'
import type { DocStore } from './persistence/DocStore.ts'
import { createLoggerOptions, createRequestLog } from './observability/logging.ts'
import { Metrics } from './observability/metrics.ts'
import { startMetricsServer, type MetricsServer } from './observability/metricsServer.ts'
import { LevelStore } from './persistence/LevelStore.ts'
import { loadLinkSecretFromDatabase } from './persistence/postgres/linkSecret.ts'
import { PgDatabase } from './persistence/postgres/PgDatabase.ts'
import { PostgresStore } from './persistence/postgres/PostgresStore.ts'
import { PostgresVersionStore } from './persistence/postgres/PostgresVersionStore.ts'
import { docMigrations, settingsMigrations, versionMigrations } from './persistence/postgres/schema.ts'
import { LevelVersionStore } from './persistence/LevelVersionStore.ts'
import { MemoryVersionStore } from './persistence/MemoryVersionStore.ts'
import type { VersionStore } from './persistence/VersionStore.ts'
import { ConnectionGate } from './transports/gate.ts'
import { createLongPollTransport } from './transports/longPoll.ts'
import { createSseTransport } from './transports/sse.ts'
import { createWebSocketTransport, rejectUpgrade } from './transports/websocket.ts'
import { sendHttp } from './webhooks/httpSender.ts'
import { LevelOutboxStore } from './webhooks/LevelOutboxStore.ts'
import { MemoryOutboxStore } from './webhooks/MemoryOutboxStore.ts'
import type { OutboxStore } from './webhooks/OutboxStore.ts'
import { PostgresOutboxStore } from './webhooks/PostgresOutboxStore.ts'
import { webhookMigrations } from './webhooks/postgresSchema.ts'
import { createWebhooks } from './webhooks/webhooks.ts'

export interface RunningServer {
  /** Base URL, e.g. http://localhost:1234 */
  readonly url: string
  readonly port: number
  /** `http://host:port/metrics` on the admin listener, or null without METRICS_PORT (SPEC R51). */
  readonly metricsUrl: string | null
  readonly registry: RoomRegistry
  readonly persister: Persister
  readonly events: DocumentEvents
  /** Stops accepting, closes clients with 1012, flushes writes, closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  /** A store to use instead of LevelDB in `config.dataDir` (tests pass a failing or memory store). */
  readonly store?: DocStore
  /** Where log lines go instead of stdout (tests read them). */
  readonly logStream?: { write(line: string): void }
}

const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 30_000
const MAX_HEADER_BYTES = 16 * 1024

/** The one composition root: builds every concrete part from the config and wires them. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  // Long-poll session ids start with it: a load balancer routes a session's requests by it (R68).
  const nodeName = config.nodeName ?? `node-${randomBytes(4).toString('hex')}`
  const isTrustedProxy = trustedProxies(config.trustedProxies)
  const app = Fastify({
    logger: await createLoggerOptions({
      level: config.logLevel,
      nodeName: config.nodeName,
      ...(options.logStream ? { stream: options.logStream } : {}),
    }),
    logController: createRequestLog(),
    trustProxy: isTrustedProxy,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    // Bounded time to send a request's headers and body (slowloris), bounded header size (431),
    // checked every second rather than Node's default 30 s (SPEC R30).
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: HEADERS_TIMEOUT_MS,
          requestTimeout: REQUEST_TIMEOUT_MS,
          connectionsCheckingInterval: 1_000,
          maxHeaderSize: MAX_HEADER_BYTES,
        },
        handler,
      ),
  })
  registerErrorHandler(app)
  // Instrumentation stays out of the core: it emits through callbacks, Metrics counts (SPEC R51).
  const metrics = new Metrics()
  const sockets = guardSockets(app.server, {
    firstRequestMs: HEADERS_TIMEOUT_MS,
    maxConnections: config.maxConnections,
    onDropped: (reason) => metrics.connectionDropped(reason),
  })
  let isShuttingDown = false
  // New work is refused during shutdown (R35); health checks are not work: they say what is true.
  app.addHook('onRequest', async (request, reply) => {
    if (isShuttingDown && !isHealthCheck(request)) await sendReason(reply, CLOSE_REASONS.serverShutdown)
  })
  // Cluster mode (SPEC R64): documents, versions and the link secret in PostgreSQL, shared by
  // every node. Closed in close(), after the store.
  const database = config.databaseUrl
    ? await PgDatabase.open(config.databaseUrl, {
        // Every module's tables, in order; a module that keeps state here adds its list.
        migrations: [...docMigrations, ...versionMigrations, ...settingsMigrations, ...webhookMigrations],
        onEvent: (event) => {
          switch (event.kind) {
            case 'write-failed':
              return app.log.error({ err: event.error }, 'database write failed; writes wait for a probe')
            case 'recovery-deferred':
              return app.log.debug({ err: event.error }, 'database does not take writes yet')
            case 'recovered':
              metrics.storeReopened('ok')
              return app.log.warn('database takes writes again; writes resume')
            case 'idle-connection-error':
              return app.log.warn({ err: event.error }, 'idle database connection lost')
            case 'migrated':
              return app.log.info({ migration: event.id }, 'database migration applied')
          }
        },
      })
    : null
  if (!database) await mkdir(config.dataDir, { recursive: true })
  let store =
    options.store ??
    (database ? new PostgresStore(database, { compactAfterEntries: config.compactAfterEntries }) : undefined)
  // The LevelDB this server opened itself, if it did: the webhook outbox lives beside its documents.
  let levelStore: LevelStore | null = null
  if (!store) {
    store = levelStore = await LevelStore.open({
      dir: config.dataDir,
      syncWrites: config.syncWrites,
      compactAfterEntries: config.compactAfterEntries,
      // After a failed write the store refuses writes until it has reopened LevelDB (SPEC R57).
      onEvent: (event) => {
        switch (event.kind) {
          case 'write-failed':
            return app.log.error({ err: event.error }, 'store write failed; writes wait for a reopen')
          case 'reopen-deferred':
            return app.log.debug({ err: event.error }, 'store not reopened yet')
          case 'reopen-failed':
            metrics.storeReopened('failed')
            return app.log.error({ err: event.error }, 'store reopen failed; will retry')
          case 'reopened':
            metrics.storeReopened('ok')
            return app.log.warn('store reopened after a failed write; writes resume')
        }
      },
    })
  }
  const persister = new Persister(store, {
    retryDelayMs: 100,
    maxRetryDelayMs: 5_000,
    onError: (error, attempt) => app.log.error({ err: error, attempt }, 'persist failed; will retry'),
    onBatch: (batch) => metrics.persisted(batch),
  })
  // Cluster mode (SPEC R65, R66): committed edits and presence reach the other nodes through Redis.
  // The node id is new on every start, so a restarted node's messages are never taken for the old.
  const nodeId = `${config.nodeName ?? 'node'}-${randomBytes(4).toString('hex')}`
  const storeForCluster = store
  const bus = config.redisUrl
    ? await RedisBus.open({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        onEvent: (event) => {
          switch (event.kind) {
            case 'down':
              return app.log.warn({ connection: event.connection, err: event.error }, 'redis connection lost')
            case 'up':
              return app.log.warn({ connection: event.connection }, 'redis connection back; catching up')
            case 'dropped':
              return metrics.clusterMessageDropped()
          }
        },
      })
    : null
  const directory = bus ? new RedisPresenceDirectory(bus.commands, config.redisPrefix, nodeId) : null
  const cluster = bus
    ? new ClusterSync({
        bus,
        nodeId,
        ...(directory ? { directory } : {}),
        load: (docId) => storeForCluster.load(docId),
        onCatchUp: (docId, reason) => {
          metrics.clusterCatchUp(reason)
          app.log.debug({ docId, reason }, 'catching up from the store')
        },
        onError: (docId, error) => app.log.warn({ docId, err: error }, 'cluster sync failed; will retry'),
      })
    : null
  if (cluster) persister.onCommitted((entries) => cluster.committed(entries))
  const events = new DocumentEvents()
  // Version history (SPEC R62) in PostgreSQL or the documents' LevelDB; a store passed in by a test
  // keeps it in memory.
  const versions: VersionStore = database
    ? new PostgresVersionStore(database)
    : store instanceof LevelStore
      ? new LevelVersionStore(store.binarySublevel('versions'), { syncWrites: config.syncWrites })
      : new MemoryVersionStore()
  const recorder = new VersionRecorder(versions, {
    pauseMs: config.versionPauseMs,
    stateOf: (docId) => registry.read(docId, (room) => room.fullState()),
    // A document deleted or shutting down meanwhile has no version to take: not worth a line.
    onError: (docId, error) => {
      if (!(error instanceof RoomUnavailableError))
        app.log.error({ docId, err: error }, 'automatic version failed; will retry')
    },
  })
  events.on((event) => {
    if (event.type === 'document.persisted') recorder.changed(event.docId, event.contributors)
  })
  const registry = new RoomRegistry(store, persister, {
    roomIdleMs: config.roomIdleMs,
    maxPendingBytes: config.maxMessageBytes,
    onLoadError: (docId, error) => app.log.error({ docId, err: error }, 'document failed to load'),
    ...(cluster ? { links: cluster } : {}),
    // A deleted document's versions go with it (R55, R62), before the document itself.
    beforeDelete: async (docId) => {
      await recorder.forget(docId)
      await versions.deleteAll(docId)
    },
    roomOptions: (docId) => ({
      // One line per rejection (SPEC R52): who and why, never what they sent.
      onReject: (peer, reason, detail) => {
        metrics.rejected(reason)
        app.log.warn(
          { docId, session: peer.id, role: peer.role, code: reason.code, reason: reason.text, detail },
          'input rejected',
        )
      },
      // A stale connection taken over (SPEC R36): worth a line, as a connection's end is.
      onSuperseded: (peer, next) => {
        metrics.connectionReplaced(next ? 'superseded' : 'unresponsive')
        app.log.info(
          { docId, session: peer.id, role: peer.role, next: next?.id ?? null },
          next ? 'connection superseded by the same writer' : 'connection dropped: it did not answer',
        )
      },
      // Echoes are what stock clients send all day; spoofing attempts are worth a debug line (R32).
      onPresenceDropped: (peer, kind, clientId) => {
        metrics.presenceDropped(kind)
        if (kind === 'foreign')
          app.log.debug({ docId, session: peer.id, clientId }, 'presence for another connection dropped')
      },
      onPersisted: (contributors) =>
        events.emit({ type: 'document.persisted', docId, contributors, at: Date.now() }),
      onEditorsGone: () => recorder.editorsGone(docId),
      ...(cluster
        ? {
            onPresence: (update: Uint8Array) => cluster.presence(docId, update),
            onPeersChanged: () => cluster.peersChanged(docId),
          }
        : {}),
    }),
  })
  const linkSecret = database
    ? await loadLinkSecretFromDatabase(database, config.linkSecret)
    : await loadLinkSecret(config.dataDir, config.linkSecret)
  const access = new Access(store, new LinkSigner(linkSecret))
  const authorize = (docId: string, token: string | null | undefined) => access.check(docId, token)
  // Webhooks keep their outbox beside the documents (docs/PROTOCOL.md §9.6): in PostgreSQL, shared
  // by every node, which deliver each event once between them (R67); in the documents' LevelDB;
  // in memory for a store passed in by a test.
  const openDocStore = store
  const outbox: OutboxStore = database
    ? new PostgresOutboxStore(database)
    : levelStore
      ? new LevelOutboxStore(levelStore.sublevel('webhooks'), config.syncWrites)
      : new MemoryOutboxStore()
  const webhooks = await createWebhooks({
    outbox,
    events,
    getMeta: (docId) => openDocStore.getMeta(docId),
    // A title only from a loaded document: a webhook never loads one to name it (R60).
    getTitle: (docId) => {
      const room = registry.peek(docId)
      return Promise.resolve(room ? documentTitle(room.doc) : null)
    },
    checkAccess: (docId, token) => access.check(docId, token),
    config: {
      adminApiKey: config.adminApiKey,
      allowPrivate: config.webhookAllowPrivate,
      timeoutMs: config.webhookTimeoutMs,
      debounceQuietMs: config.webhookDebounceMs,
      debounceMaxWaitMs: config.webhookMaxWaitMs,
      disableAfterFailures: config.webhookDisableAfterFailures,
      disableAfterMs: config.webhookDisableAfterMs,
      publicUrl: config.publicUrl,
      envEndpoint: config.webhookEndpoint,
    },
    log: app.log,
    send: metrics.timedSend(sendHttp),
  })
  const allowedOrigins = new Set(config.allowedOrigins)
  const originAllowed = (request: IncomingMessage): boolean => isOriginAllowed(request, allowedOrigins)
  // Every transport's connections pass one gate: admission, token, parameters, joining, closing,
  // and the log lines and metrics of both ends (STYLE.md 16).
  const gate = new ConnectionGate({
    registry,
    admit: createAdmit(originAllowed, new ConnectionBudget(config.maxConnectionsPerIp), isTrustedProxy),
    isOriginAllowed: originAllowed,
    authorize,
    maxQueuedBytes: config.maxQueuedBytes,
    log: app.log,
    observer: metrics.connectionObserver,
  })
  const websocket = createWebSocketTransport({
    gate,
    maxMessageBytes: config.maxMessageBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    maxMessagesPerSecond: config.maxMessagesPerSecond,
    intake: persister,
    log: app.log,
  })
  const sse = createSseTransport({ gate, heartbeatMs: config.sseHeartbeatMs, retryMs: config.sseRetryMs })
  const longPoll = createLongPollTransport({
    gate,
    nodeName,
    maxMessageBytes: config.maxMessageBytes,
    pollTimeoutMs: config.pollTimeoutMs,
    idleTimeoutMs: config.pollSessionIdleMs,
  })
  metrics.watch({
    loadedRooms: () => registry.loadedRoomCount,
    dirtyRooms: () => registry.dirtyRoomCount,
    sseStreams: () => sse.connectionCount,
    pollSessions: () => longPoll.connectionCount,
    openSockets: () => sockets.openSockets,
    webhookQueueDepth: () => webhooks.pendingDeliveries,
    storeState: () => openDocStore.state,
  })

  // Loaded on the first export, not at startup: it is most of the server's baseline memory (R29).
  let exporter: Promise<DocumentExporter> | null = null
  // A failed import is not kept: the next export tries again rather than failing forever.
  const loadExporter = (): Promise<DocumentExporter> =>
    (exporter ??= import('./export/DocumentExporter.ts')
      .then((module) => new module.DocumentExporter())
      .catch((error: unknown) => {
        exporter = null
        throw error
      }))
  const openStoreForHealth = store
  registerHealth(app, () => ({ isShuttingDown, store: openStoreForHealth.state }))
  registerApi(app, {
    store,
    registry,
    access,
    sse,
    events,
    exporter: loadExporter,
    adminApiKey: config.adminApiKey,
    // Redis unreachable: the dashboard shows this node's part rather than failing.
    ...(directory ? { presenceElsewhere: (docId: string) => directory.read(docId).catch(() => NOBODY) } : {}),
  })
  registerVersionRoutes(app, {
    versions,
    recorder,
    registry,
    authorize: createAuthorize({ store, access, adminApiKey: config.adminApiKey }),
    exporter: loadExporter,
  })
  webhooks.register(app)
  longPoll.register(app)
  await registerStaticClient(app, config.clientDir)
  app.server.on('upgrade', (request, socket, head) => {
    if (isShuttingDown) rejectUpgrade(socket, CLOSE_REASONS.serverShutdown)
    else if (!websocket.handleUpgrade(request, socket, head)) rejectUpgrade(socket, CLOSE_REASONS.docNotFound)
  })

  await app.listen({ port: config.port, host: config.host })
  const port = (app.server.address() as AddressInfo).port
  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  const openStore = store
  let metricsServer: MetricsServer | null = null
  if (config.metricsPort !== null) {
    try {
      metricsServer = await startMetricsServer(metrics.registry, config.metricsPort, config.host)
    } catch (error) {
      // The same order as close() below: nothing may be left running on a closed database.
      await app.close()
      persister.close()
      await webhooks.close()
      await openStore.close()
      await database?.close()
      throw error
    }
  }

  let closing: Promise<void> | null = null
  return {
    url: `http://${displayHost}:${port}`,
    port,
    metricsUrl: metricsServer ? `http://${displayHost}:${metricsServer.port}/metrics` : null,
    registry,
    persister,
    events,
    close() {
      // Graceful shutdown (SPEC R35): refuse new work, tell every client to come back later
      // (1012 / 503 + Retry-After, spread by their jittered backoff), make every accepted write
      // durable, then stop.
      closing ??= (async () => {
        const startedMs = performance.now()
        isShuttingDown = true
        // Held polls first: a poll answered with another client's departure would need one
        // more round trip to learn about the shutdown.
        longPoll.close(CLOSE_REASONS.serverShutdown)
        sse.close(CLOSE_REASONS.serverShutdown)
        websocket.close(CLOSE_REASONS.serverShutdown)
        // Changed documents get their version while their rooms are still loaded (R62).
        await recorder.close()
        await registry.close()
        cluster?.destroy()
        await directory?.close()
        await bus?.close()
        await app.close()
        persister.close()
        // After the registry flushed (the last edits' events are in), before the database closes.
        await webhooks.close()
        await openStore.close()
        await database?.close()
        await metricsServer?.close()
        app.log.info({ durationMs: Math.round(performance.now() - startedMs) }, 'shut down')
      })()
      return closing
    },
  }
}
