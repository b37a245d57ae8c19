import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { StoreState } from '../persistence/DocStore.ts'

const LIVENESS_PATH = '/healthz'
const READINESS_PATH = '/readyz'

export interface Readiness {
  readonly isShuttingDown: boolean
  readonly store: StoreState
}

/**
 * `/healthz`: the process answers (liveness). `/readyz`: it can serve documents — the store is open
 * and shutdown has not begun (SPEC R53). Both answer during a graceful shutdown, when every other
 * route is refused (R35): a draining server is alive — failing liveness would get it killed before
 * its writes are durable — and not ready, which is what takes it out of a load balancer. Readiness
 * also covers a store that closed under a running server, or that could not be reopened after a
 * failed write (R57). A store whose writes fail but that still serves reads is ready, and says so:
 * clients keep editing together and are told that nothing is saved (R8), which taking the server
 * out of a load balancer would only make worse.
 */
export function registerHealth(app: FastifyInstance, readiness: () => Readiness): void {
  app.get(LIVENESS_PATH, () => ({ status: 'ok' }))
  app.get(READINESS_PATH, (_request, reply) => {
    const { isShuttingDown, store } = readiness()
    const reason = isShuttingDown ? 'shutting down' : notServing(store)
    if (reason === null) return store === 'open' ? { status: 'ready' } : { status: 'ready', store }
    return reply.code(503).header('Retry-After', '2').send({ status: 'not ready', reason })
  })
  // Metrics live on the admin listener only (R51); say so instead of serving the client page.
  app.get('/metrics', (_request, reply) =>
    reply.code(404).send({ error: 'metrics are served on the METRICS_PORT admin listener' }),
  )
}

/** Why a store in this state cannot serve documents, or null when it can. */
function notServing(store: StoreState): string | null {
  switch (store) {
    case 'open':
    case 'failing':
      return null
    case 'unavailable':
      return 'store unavailable'
    case 'closed':
      return 'store closed'
  }
}

/** A request for `/healthz` or `/readyz`: answered during shutdown too (R53), not refused (R35). */
export function isHealthCheck(request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  return route === LIVENESS_PATH || route === READINESS_PATH
}
