import type { FastifyInstance } from 'fastify'

/**
 * `/healthz`: the process answers (liveness). `/readyz`: it can serve documents — the store is open
 * and shutdown has not begun (SPEC R53). During shutdown every route, these included, already
 * answers 503 (R35); the check here covers a store that closed under a running server.
 */
export function registerHealth(app: FastifyInstance, isReady: () => boolean): void {
  app.get('/healthz', () => ({ status: 'ok' }))
  app.get('/readyz', (_request, reply) => {
    if (isReady()) return { status: 'ready' }
    return reply.code(503).header('Retry-After', '2').send({ status: 'not ready' })
  })
  // Metrics live on the admin listener only (R51); say so instead of serving the client page.
  app.get('/metrics', (_request, reply) =>
    reply.code(404).send({ error: 'metrics are served on the METRICS_PORT admin listener' }),
  )
}
