import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { CLOSE_REASONS } from '@tandem/shared'
import Fastify, { type FastifyRequest } from 'fastify'
import { Access } from './auth/access.ts'
import { LinkSigner } from './auth/links.ts'
import { loadLinkSecret } from './auth/secret.ts'
import type { Config } from './config.ts'
import { Persister } from './core/Persister.ts'
import { RoomRegistry } from './core/RoomRegistry.ts'
import { registerApi } from './http/api.ts'
import { registerStaticClient } from './http/staticClient.ts'
import type { DocStore } from './persistence/DocStore.ts'
import { LevelStore } from './persistence/LevelStore.ts'
import { createLongPollTransport } from './transports/longPoll.ts'
import { createSseTransport } from './transports/sse.ts'
import { createWebSocketTransport, rejectUpgrade } from './transports/websocket.ts'

export interface RunningServer {
  /** Base URL, e.g. http://localhost:1234 */
  readonly url: string
  readonly port: number
  readonly registry: RoomRegistry
  readonly persister: Persister
  /** Stops accepting, closes clients with 1012, flushes writes, closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  /** A store to use instead of LevelDB in `config.dataDir` (tests pass a failing or memory store). */
  readonly store?: DocStore
}

/** Request log lines carry the path only: query strings hold link tokens, never logged. */
function requestSerializer(request: FastifyRequest): Record<string, string | undefined> {
  return { method: request.method, path: request.url.split('?')[0], ip: request.ip }
}

/** The one composition root: builds every concrete part from the config and wires them. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const app = Fastify({
    logger: { level: config.logLevel, serializers: { req: requestSerializer } },
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
  })
  await mkdir(config.dataDir, { recursive: true })
  let store = options.store
  if (!store) {
    store = await LevelStore.open({
      dir: config.dataDir,
      syncWrites: config.syncWrites,
      compactAfterEntries: config.compactAfterEntries,
    })
  }
  const persister = new Persister(store, {
    retryDelayMs: 100,
    maxRetryDelayMs: 5_000,
    onError: (error, attempt) => app.log.error({ err: error, attempt }, 'persist failed; will retry'),
  })
  const registry = new RoomRegistry(store, persister, {
    roomIdleMs: config.roomIdleMs,
    maxPendingBytes: config.maxMessageBytes,
    onLoadError: (docId, error) => app.log.error({ docId, err: error }, 'document failed to load'),
  })
  const access = new Access(store, new LinkSigner(await loadLinkSecret(config.dataDir, config.linkSecret)))
  const authorize = (docId: string, token: string | null | undefined) => access.check(docId, token)
  const websocket = createWebSocketTransport({
    registry,
    authorize,
    maxMessageBytes: config.maxMessageBytes,
    maxQueuedBytes: config.maxQueuedBytes,
    pingIntervalMs: 30_000,
    log: app.log,
  })

  const sse = createSseTransport({
    registry,
    authorize,
    maxQueuedBytes: config.maxQueuedBytes,
    heartbeatMs: config.sseHeartbeatMs,
    retryMs: config.sseRetryMs,
    log: app.log,
  })

  const longPoll = createLongPollTransport({
    registry,
    authorize,
    maxQueuedBytes: config.maxQueuedBytes,
    maxMessageBytes: config.maxMessageBytes,
    pollTimeoutMs: config.pollTimeoutMs,
    idleTimeoutMs: config.pollSessionIdleMs,
    log: app.log,
  })

  registerApi(app, { store, registry, access, sse })
  longPoll.register(app)
  await registerStaticClient(app, config.clientDir)
  app.server.on('upgrade', (request, socket, head) => {
    if (!websocket.handleUpgrade(request, socket, head)) rejectUpgrade(socket, CLOSE_REASONS.docNotFound)
  })

  await app.listen({ port: config.port, host: config.host })
  const port = (app.server.address() as AddressInfo).port
  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  const openStore = store

  let closing: Promise<void> | null = null
  return {
    url: `http://${displayHost}:${port}`,
    port,
    registry,
    persister,
    close() {
      closing ??= (async () => {
        websocket.close(CLOSE_REASONS.serverShutdown)
        sse.close(CLOSE_REASONS.serverShutdown)
        longPoll.close(CLOSE_REASONS.serverShutdown)
        await app.close()
        await registry.close()
        persister.close()
        await openStore.close()
      })()
      return closing
    },
  }
}
