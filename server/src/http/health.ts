import type { FastifyInstance } from 'fastify'
import type { StoreState } from '../persistence/DocStore.ts'

export interface Readiness {
  readonly isShuttingDown: boolean
  readonly store: StoreState
}

/**
 * `/healthz`: the process answers (liveness). `/readyz`: it can serve documents — the store is open
 * and shutdown has not begun (SPEC R53). During shutdown every route, these included, already
 * answers 503 (R35); the check here covers a store that closed under a running server, or that
 * could not be reopened after a failed write (R57). A store whose writes fail but that still
 * serves reads is ready, and says so: clients keep editing together and are told that nothing is
 * saved (R8), which taking the server out of a load balancer would only make worse.
 */
export function registerHealth(app: FastifyInstance, readiness: () => Readiness): void {
  app.get('/healthz', () => ({ status: 'ok' }))
  app.get('/readyz', (_request, reply) => {
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
