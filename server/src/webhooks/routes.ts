import { createHash, timingSafeEqual } from 'node:crypto'
import { CLOSE_REASONS, isValidDocId, type CloseReason } from '@tandem/shared'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AccessResult } from '../auth/access.ts'
import { sendReason } from '../http/errors.ts'
import type { DocMeta } from '../persistence/DocStore.ts'
import type { ServiceError, WebhookService } from './service.ts'
import type { EndpointTable } from './endpoints.ts'
import type { EndpointRecord, EndpointSource } from './types.ts'
import { deliveryView, endpointView } from './views.ts'

export interface RouteOptions {
  readonly service: WebhookService
  readonly endpoints: EndpointTable
  /** ADMIN_API_KEY, or null: then only document-scoped management with an edit token works. */
  readonly adminApiKey: string | null
  readonly checkAccess: (docId: string, token: string | null) => Promise<AccessResult>
  readonly getMeta: (docId: string) => Promise<DocMeta | null>
  /** Brings the endpoint table up to date with a store other nodes share (R67); else a no-op. */
  readonly refresh: () => Promise<void>
}

/** Which endpoints a request may see and how the ones it creates are marked. */
interface Scope {
  /** null: every endpoint (admin on /api/webhooks); else only this document's. */
  readonly docId: string | null
  readonly source: EndpointSource
}

type Params = { id?: string; wid?: string; did?: string }
type AnyRequest = FastifyRequest<{
  Params: Params
  Querystring: { k?: string; limit?: number }
  Body: { url: string; events?: string[]; docId?: string; description?: string }
}>

const bodySchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    events: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 64 } },
    docId: { type: 'string', maxLength: 64 },
    description: { type: 'string', maxLength: 256 },
  },
} as const
const querySchema = {
  type: 'object',
  properties: { k: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 200 } },
} as const

/**
 * The webhook API (docs/PROTOCOL.md §9.2, SPEC R41): `/api/webhooks…` with the admin API key for
 * every endpoint, and `/api/docs/:id/webhooks…` with the document's edit token (or the admin key)
 * for that document's endpoints only. Another scope's endpoint is answered as not found.
 */
export function registerWebhookRoutes(app: FastifyInstance, options: RouteOptions): void {
  const { service, endpoints } = options

  const adminScope = async (request: AnyRequest, reply: FastifyReply): Promise<Scope | null> => {
    const key = bearerOf(request)
    if (key === null) return refuse(reply, 401, CLOSE_REASONS.unauthorized.code, 'admin API key required')
    if (!isAdminKey(key, options.adminApiKey))
      return refuse(reply, 403, 4403, adminRefusal(options.adminApiKey))
    return { docId: null, source: 'admin' }
  }

  const documentScope = async (request: AnyRequest, reply: FastifyReply): Promise<Scope | null> => {
    const docId = request.params.id ?? ''
    if (!isValidDocId(docId)) return deny(reply, CLOSE_REASONS.invalidDocId)
    // The admin key only as a bearer credential: query strings end up in proxy access logs.
    const bearer = bearerOf(request)
    const token = bearer ?? request.query.k ?? null
    if (bearer !== null && isAdminKey(bearer, options.adminApiKey)) {
      if (!(await options.getMeta(docId))) return deny(reply, CLOSE_REASONS.docNotFound)
      return { docId, source: 'admin' }
    }
    const access = await options.checkAccess(docId, token)
    if (!access.ok) return deny(reply, access.reason)
    if (access.role !== 'edit') return deny(reply, CLOSE_REASONS.readOnly)
    return { docId, source: 'edit-token' }
  }

  for (const [prefix, authorizeScope] of [
    ['/api/webhooks', adminScope],
    ['/api/docs/:id/webhooks', documentScope],
  ] as const) {
    /** The caller's scope, with the endpoint table as the store has it now (R67). */
    const authorize = async (request: AnyRequest, reply: FastifyReply): Promise<Scope | null> => {
      const scope = await authorizeScope(request, reply)
      if (scope) await options.refresh()
      return scope
    }

    /** The endpoint named in the path if the scope may see it; else sends 404 and gives null. */
    const endpointIn = async (scope: Scope, request: AnyRequest, reply: FastifyReply) => {
      const endpoint = endpoints.get(request.params.wid ?? '')
      if (endpoint && (scope.docId === null || endpoint.docId === scope.docId)) return endpoint
      await refuse(reply, 404, 4404, 'webhook endpoint not found')
      return null
    }

    app.post(
      prefix,
      { schema: { body: bodySchema, querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        if (!scope) return reply
        let docId = scope.docId
        if (docId === null && request.body.docId !== undefined) {
          docId = request.body.docId
          if (!isValidDocId(docId)) return sendReason(reply, CLOSE_REASONS.invalidDocId)
          if (!(await options.getMeta(docId))) return sendReason(reply, CLOSE_REASONS.docNotFound)
        }
        const input = {
          url: request.body.url,
          events: request.body.events,
          docId,
          description: request.body.description,
        }
        const created = await service.createEndpoint(input, scope.source)
        if (!created.ok) return sendError(reply, created.error)
        // The only time the secret is shown (R41).
        return reply.code(201).send({ ...view(created.value), secret: created.value.secret })
      },
    )

    app.get(prefix, { schema: { querystring: querySchema } }, async (request: AnyRequest, reply) => {
      const scope = await authorize(request, reply)
      if (!scope) return reply
      const visible = endpoints.all().filter((e) => scope.docId === null || e.docId === scope.docId)
      return { endpoints: visible.map(view) }
    })

    app.get(
      `${prefix}/:wid`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        return endpoint ? view(endpoint) : reply
      },
    )

    app.delete(
      `${prefix}/:wid`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        if (!endpoint) return reply
        const removed = await service.removeEndpoint(endpoint.id)
        return removed.ok ? reply.code(204).send() : sendError(reply, removed.error)
      },
    )

    app.post(
      `${prefix}/:wid/enable`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        if (!endpoint) return reply
        const enabled = await service.enableEndpoint(endpoint.id)
        return enabled.ok ? view(enabled.value) : sendError(reply, enabled.error)
      },
    )

    app.get(
      `${prefix}/:wid/deliveries`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        if (!endpoint) return reply
        const deliveries = await service.deliveries(endpoint.id, request.query.limit ?? 50)
        return { deliveries: deliveries.map((delivery) => deliveryView(delivery)) }
      },
    )

    app.get(
      `${prefix}/:wid/deliveries/:did`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        if (!endpoint) return reply
        const delivery = await service.delivery(endpoint.id, request.params.did ?? '')
        return delivery ? deliveryView(delivery, true) : refuse(reply, 404, 4404, 'delivery not found')
      },
    )

    app.post(
      `${prefix}/:wid/deliveries/:did/replay`,
      { schema: { querystring: querySchema } },
      async (request: AnyRequest, reply) => {
        const scope = await authorize(request, reply)
        const endpoint = scope && (await endpointIn(scope, request, reply))
        if (!endpoint) return reply
        const replayed = await service.replay(endpoint.id, request.params.did ?? '')
        if (!replayed.ok) return sendError(reply, replayed.error)
        return reply.code(202).send(deliveryView(replayed.value))
      },
    )
  }

  function view(endpoint: EndpointRecord): Record<string, unknown> {
    return endpointView(endpoint, endpoints.pending(endpoint.id))
  }
}

/** The bearer credential; never logged, never forwarded to a receiver (R42). */
function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null
}

/** Constant-time comparison of digests, so neither the key nor its length leaks through timing. */
function isAdminKey(given: string, adminApiKey: string | null): boolean {
  if (adminApiKey === null) return false
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(adminApiKey))
}

function adminRefusal(adminApiKey: string | null): string {
  return adminApiKey === null ? 'webhook admin API is off: ADMIN_API_KEY is not set' : 'wrong admin API key'
}

/** A refusal from the close-reason catalogue (document routes, SPEC R17). */
async function deny(reply: FastifyReply, reason: CloseReason): Promise<null> {
  await sendReason(reply, reason)
  return null
}

/** Errors in the catalogue's shape `{error, code}` (docs/PROTOCOL.md §4), code = 4000 + status. */
async function refuse(reply: FastifyReply, status: number, code: number, text: string): Promise<null> {
  await reply.code(status).send({ error: text, code })
  return null
}

function sendError(reply: FastifyReply, error: ServiceError): Promise<null> {
  switch (error.kind) {
    case 'invalid':
      return refuse(reply, 400, 4400, error.detail)
    case 'address-refused':
      return refuse(reply, 422, 4422, `target address refused: ${error.detail}`)
    case 'limit':
      return refuse(reply, 409, 4409, error.detail)
    case 'not-found':
      return refuse(reply, 404, 4404, 'not found')
    case 'conflict':
      return refuse(reply, 409, 4409, error.detail)
  }
}
