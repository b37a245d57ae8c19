import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/**
 * Files that name the current build rather than being named by it (assets carry a content hash):
 * the service worker, its manifest and the page. Browsers must ask for them again every time, or a
 * new deploy would go unnoticed by the app shell the service worker keeps (SPEC R12).
 */
const REVALIDATED_FILES: ReadonlySet<string> = new Set(['sw.js', 'manifest.webmanifest', 'index.html'])

/**
 * Serves the built client. Page routes (`/`, `/d/<id>`, `/v/<id>`) are client-side, so any other
 * GET that is not an API path gets index.html.
 */
export async function registerStaticClient(app: FastifyInstance, clientDir: string): Promise<void> {
  const hasBuild = existsSync(join(clientDir, 'index.html'))
  if (hasBuild) {
    await app.register(fastifyStatic, {
      root: clientDir,
      wildcard: false,
      setHeaders: (reply, path) => {
        if (REVALIDATED_FILES.has(basename(path))) reply.header('Cache-Control', 'no-cache')
      },
    })
  }
  app.setNotFoundHandler((request, reply) => {
    const isPage =
      request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/ws/')
    if (isPage && hasBuild) return reply.type('text/html').sendFile('index.html')
    if (isPage) return reply.code(503).type('text/plain').send('client not built: run `npm run build`\n')
    return reply.code(404).send({ error: 'not found' })
  })
}
