import { randomBytes } from 'node:crypto'
import { CLOSE_REASONS, isValidDocId, type CloseReason } from '@tandem/shared'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { documentText } from '../core/documentText.ts'
import type { RoomRegistry } from '../core/RoomRegistry.ts'
import type { DocStore } from '../persistence/DocStore.ts'

export interface ApiDeps {
  readonly store: DocStore
  readonly registry: RoomRegistry
}

const docParams = {
  type: 'object',
  properties: { id: { type: 'string' } },
  required: ['id'],
} as const

/** REST API (docs/PROTOCOL.md §3). Errors use the close-reason catalogue. */
export function registerApi(app: FastifyInstance, { store, registry }: ApiDeps): void {
  app.get('/healthz', () => ({ status: 'ok' }))

  app.post('/api/docs', async (_request, reply) => {
    let id = newDocId()
    while (!(await store.create(id))) id = newDocId()
    return reply.code(201).send({ id, url: `/d/${id}` })
  })

  app.get<{ Params: { id: string } }>(
    '/api/docs/:id',
    { schema: { params: docParams } },
    async (request, reply) => {
      const { id } = request.params
      if (!isValidDocId(id)) return sendReason(reply, CLOSE_REASONS.invalidDocId)
      const meta = await store.getMeta(id)
      if (!meta) return sendReason(reply, CLOSE_REASONS.docNotFound)
      const room = registry.peek(id)
      return {
        id,
        createdAt: new Date(meta.createdAt).toISOString(),
        updatedAt: new Date(meta.updatedAt).toISOString(),
        version: meta.version,
        storedBytes: meta.storedBytes,
        connections: room?.peerCount ?? 0,
      }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/api/docs/:id/text',
    { schema: { params: docParams } },
    async (request, reply) => {
      const { id } = request.params
      if (!isValidDocId(id)) return sendReason(reply, CLOSE_REASONS.invalidDocId)
      if (!(await store.getMeta(id))) return sendReason(reply, CLOSE_REASONS.docNotFound)
      const text = await registry.read(id, (room) => documentText(room.doc))
      return reply.type('text/plain; charset=utf-8').send(text)
    },
  )
}

export function sendReason(reply: FastifyReply, reason: CloseReason): FastifyReply {
  return reply.code(reason.status).send({ error: reason.text, code: reason.code })
}

/** 72 random bits, URL-safe: unguessable enough that ids alone leak nothing. */
function newDocId(): string {
  return randomBytes(9).toString('base64url')
}
