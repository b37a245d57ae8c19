import { createHash, randomBytes } from 'node:crypto'
import { CLOSE_REASONS } from '@tandem/shared'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Access } from '../auth/access.ts'
import { newLinkKey } from '../auth/links.ts'
import type { DocumentEvents } from '../core/events.ts'
import type { Role } from '../core/types.ts'
import { documentText } from '../core/documentText.ts'
import type { RoomRegistry } from '../core/RoomRegistry.ts'
import type { DocStore } from '../persistence/DocStore.ts'
import type { SseTransport } from '../transports/sse.ts'
import { sendReason } from './errors.ts'

export interface ApiDeps {
  readonly store: DocStore
  readonly registry: RoomRegistry
  readonly access: Access
  readonly sse: SseTransport
  readonly events: DocumentEvents
}

type DocRequest = FastifyRequest<{ Params: { id: string }; Querystring: { k?: string } }>

const docRoute = {
  schema: {
    params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    querystring: { type: 'object', properties: { k: { type: 'string' } } },
  },
} as const

/** REST API (docs/PROTOCOL.md §3). Every document route checks the link token first (SPEC R17). */
export function registerApi(app: FastifyInstance, { store, registry, access, sse, events }: ApiDeps): void {
  app.get('/healthz', () => ({ status: 'ok' }))

  app.post('/api/docs', async (_request, reply) => {
    const linkKey = newLinkKey()
    let id = newDocId()
    while (!(await store.create(id, linkKey))) id = newDocId()
    events.emit({ type: 'document.created', docId: id, at: Date.now() })
    return reply.code(201).send({ ...access.links(id, linkKey), url: `/d/${id}` })
  })

  /** Resolves to the caller's role, or sends the refusal and resolves to null. */
  async function authorize(request: DocRequest, reply: FastifyReply, needs: Role): Promise<Role | null> {
    const result = await access.check(request.params.id, tokenOf(request))
    if (!result.ok) {
      await sendReason(reply, result.reason)
      return null
    }
    if (needs === 'edit' && result.role !== 'edit') {
      await sendReason(reply, CLOSE_REASONS.readOnly)
      return null
    }
    return result.role
  }

  app.get('/api/docs/:id', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'view'))) return reply
    const { id } = request.params
    const meta = await store.getMeta(id)
    if (!meta) return sendReason(reply, CLOSE_REASONS.docNotFound)
    const room = registry.peek(id)
    const presence = room?.presence() ?? { editors: [], viewers: [] }
    const body = JSON.stringify({
      id,
      createdAt: new Date(meta.createdAt).toISOString(),
      updatedAt: new Date(meta.updatedAt).toISOString(),
      version: meta.version,
      storedBytes: meta.storedBytes,
      connections: room?.peerCount ?? 0,
      viewers: room?.viewerCount ?? 0,
      editorNames: presence.editors,
      viewerNames: presence.viewers,
    })
    // Short polling's cheap "nothing changed" (R27): the same state gives the same ETag and a 304.
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`
    reply.header('ETag', etag).header('Cache-Control', 'no-cache')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('application/json; charset=utf-8').send(body)
  })

  app.get('/api/docs/:id/text', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'view'))) return reply
    const text = await registry.read(request.params.id, (room) => documentText(room.doc))
    return reply.type('text/plain; charset=utf-8').send(text)
  })

  app.get('/api/docs/:id/links', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'edit'))) return reply
    const meta = await store.getMeta(request.params.id)
    if (!meta) return sendReason(reply, CLOSE_REASONS.docNotFound)
    return access.links(request.params.id, meta.linkKey)
  })

  app.post('/api/docs/:id/links/reset', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'edit'))) return reply
    const linkKey = newLinkKey()
    await store.setLinkKey(request.params.id, linkKey)
    // Old tokens fail from now on; holders that are connected are cut off now (SPEC R19).
    registry.closeAll(request.params.id, CLOSE_REASONS.forbidden)
    events.emit({ type: 'links.reset', docId: request.params.id, at: Date.now() })
    return access.links(request.params.id, linkKey)
  })

  app.get('/api/docs/:id/events', docRoute, async (request: DocRequest, reply) => {
    reply.hijack()
    const query = new URL(request.url, 'http://localhost').searchParams
    await sse.handle(request.raw, reply.raw, request.params.id, query)
  })
}

/** `Authorization: Bearer <token>`, else `?k=<token>` (what links and EventSource can carry). */
function tokenOf(request: DocRequest): string | null {
  const header = request.headers.authorization
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim()
  return request.query.k ?? null
}

/** 72 random bits, URL-safe: unguessable, so an id alone grants nothing and leaks nothing. */
function newDocId(): string {
  return randomBytes(9).toString('base64url')
}
