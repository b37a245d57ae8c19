import { createHash, randomBytes } from 'node:crypto'
import { CLOSE_REASONS, DOC_TITLE, MAX_TITLE_LENGTH, type CloseReason } from '@tandem/shared'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type * as Y from 'yjs'
import type { Access } from '../auth/access.ts'
import { newLinkKey } from '../auth/links.ts'
import type { DocumentEvents } from '../core/events.ts'
import { documentText } from '../core/documentText.ts'
import { titleLine } from '../core/documentTitle.ts'
import { mergePresence, NOBODY, type DocPresence } from '../core/presenceDirectory.ts'
import type { Room } from '../core/Room.ts'
import { RoomUnavailableError, type RoomRegistry } from '../core/RoomRegistry.ts'
import type { DocumentExporter } from '../export/DocumentExporter.ts'
import { EXPORT_MEDIA_TYPES, negotiateFormat } from '../export/formats.ts'
import type { DocStore } from '../persistence/DocStore.ts'
import type { SseTransport } from '../transports/sse.ts'
import { isAdminKey } from './adminKey.ts'
import { bearerOf, createAuthorize } from './docAccess.ts'
import { sendReason } from './errors.ts'

export interface ApiDeps {
  readonly store: DocStore
  readonly registry: RoomRegistry
  readonly access: Access
  readonly sse: SseTransport
  readonly events: DocumentEvents
  /** The exporter, loaded on first use: Tiptap, its schema and happy-dom weigh ~80 MB of RSS. */
  readonly exporter: () => Promise<DocumentExporter>
  /** ADMIN_API_KEY: lists documents and acts on any of them (R55, R56); null: no admin. */
  readonly adminApiKey: string | null
  /** In a cluster: who is in the document through the other nodes (R66). */
  readonly presenceElsewhere?: (docId: string) => Promise<DocPresence>
}

type DocumentRead<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: CloseReason }

type DocRequest = FastifyRequest<{ Params: { id: string }; Querystring: { k?: string; format?: string } }>

const docRoute = {
  schema: {
    params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    querystring: { type: 'object', properties: { k: { type: 'string' }, format: { type: 'string' } } },
  },
} as const

type TitleRequest = FastifyRequest<{
  Params: { id: string }
  Querystring: { k?: string }
  Body: { title: string }
}>

const titleRoute = {
  schema: {
    params: docRoute.schema.params,
    querystring: docRoute.schema.querystring,
    body: {
      type: 'object',
      // No `type` here: Fastify's validator would turn a number into a string; checked below.
      properties: { title: {} },
      required: ['title'],
    },
  },
  bodyLimit: 16 * 1024,
} as const

type ListRequest = FastifyRequest<{ Querystring: { cursor?: string; limit?: number } }>

const listRoute = {
  schema: {
    querystring: {
      type: 'object',
      properties: {
        cursor: { type: 'string', maxLength: 64 },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      },
    },
  },
} as const

/** Who is in a document served by this node alone. */
function localPresence(room: Room | undefined): DocPresence {
  if (!room) return NOBODY
  const { editors, viewers } = room.presence()
  return {
    connections: room.peerCount,
    viewers: room.viewerCount,
    editorNames: editors,
    viewerNames: viewers,
  }
}

/** REST API (docs/PROTOCOL.md §3). Every document route checks the link token first (SPEC R17). */
export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { store, registry, access, sse, events, exporter, adminApiKey } = deps
  app.post('/api/docs', async (_request, reply) => {
    const linkKey = newLinkKey()
    let id = newDocId()
    while (!(await store.create(id, linkKey))) id = newDocId()
    events.emit({ type: 'document.created', docId: id, at: Date.now() })
    return reply.code(201).send({ ...access.links(id, linkKey), url: `/d/${id}` })
  })

  // Link token or admin key, once for every document route (docAccess.ts; R17, R20).
  const authorize = createAuthorize({ store, access, adminApiKey })

  /**
   * Runs `read` on the document's live state, loading it if needed. A document that cannot be
   * loaded — a stored entry Yjs cannot decode, a store that cannot read — is unavailable (503
   * 4503, SPEC R10), as its joins are: never a 500, never an empty document. Deleted meanwhile:
   * 404 (R55); shutting down: 503 1012. A failure of `read` itself on a loaded document is a bug
   * of ours and stays a logged 500 (R11).
   */
  async function readDocument<T>(request: DocRequest, read: (doc: Y.Doc) => T): Promise<DocumentRead<T>> {
    const docId = request.params.id
    let isLoaded = false
    try {
      const value = await registry.read(docId, (room) => {
        // Stored updates are applied on first use of the content: this is where they can fail.
        const doc = room.doc
        isLoaded = true
        return read(doc)
      })
      return { ok: true, value }
    } catch (error) {
      if (error instanceof RoomUnavailableError) return { ok: false, reason: error.reason }
      if (isLoaded) throw error
      request.log.error({ docId, err: error }, 'document failed to load')
      return { ok: false, reason: CLOSE_REASONS.docUnavailable }
    }
  }

  app.get('/api/docs/:id', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'view'))) return reply
    const { id } = request.params
    const meta = await store.getMeta(id)
    if (!meta) return sendReason(reply, CLOSE_REASONS.docNotFound)
    const room = registry.peek(id)
    const presence = deps.presenceElsewhere
      ? mergePresence([room?.localPresenceSummary() ?? NOBODY, await deps.presenceElsewhere(id)])
      : localPresence(room)
    // The title lives in the document (R60); the registry remembers it for documents it unloaded.
    // One that cannot be loaded still answers its metadata (R10), without a title.
    let title: string | null = null
    try {
      title = await registry.title(id, meta.updatedAt)
    } catch (error) {
      if (error instanceof RoomUnavailableError && error.reason === CLOSE_REASONS.docNotFound)
        return sendReason(reply, error.reason)
      request.log.warn({ docId: id, err: error }, 'document title unavailable')
    }
    const body = JSON.stringify({
      id,
      ...(title === null ? {} : { title }),
      createdAt: new Date(meta.createdAt).toISOString(),
      updatedAt: new Date(meta.updatedAt).toISOString(),
      version: meta.version,
      storedBytes: meta.storedBytes,
      connections: presence.connections,
      viewers: presence.viewers,
      editorNames: presence.editorNames,
      viewerNames: presence.viewerNames,
    })
    // Short polling's cheap "nothing changed" (R27): the same state gives the same ETag and a 304.
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`
    reply.header('ETag', etag).header('Cache-Control', 'no-cache')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('application/json; charset=utf-8').send(body)
  })

  app.get('/api/docs/:id/text', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'view'))) return reply
    const read = await readDocument(request, documentText)
    if (!read.ok) return sendReason(reply, read.reason)
    return reply.type('text/plain; charset=utf-8').send(read.value)
  })

  // Exports (R54): the document as the editor shows it, rendered on the server.
  app.get('/api/docs/:id/content', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'view'))) return reply
    const negotiated = negotiateFormat(request.query.format, request.headers.accept)
    if (!negotiated.ok) return sendReason(reply, CLOSE_REASONS.malformedMessage)
    const { format } = negotiated
    const rendering = await exporter()
    const read = await readDocument(request, (doc) => rendering.render(doc, format))
    if (!read.ok) return sendReason(reply, read.reason)
    reply
      .header('Vary', 'Accept')
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
    // Rendered from the schema, so no script can be in it; the policy is a second wall around a
    // page served from Tandem's own origin.
    if (format === 'html')
      reply.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
    return reply.type(`${EXPORT_MEDIA_TYPES[format]}; charset=utf-8`).send(read.value)
  })

  // Delete (R55): edit token or admin key. Everyone in the document is disconnected first, its
  // accepted writes finish, then its log, meta and link key go in one batch.
  app.delete('/api/docs/:id', docRoute, async (request: DocRequest, reply) => {
    if (!(await authorize(request, reply, 'edit'))) return reply
    const { id } = request.params
    if (!(await registry.delete(id, CLOSE_REASONS.docNotFound)))
      return sendReason(reply, CLOSE_REASONS.docNotFound)
    request.log.info({ docId: id }, 'document deleted')
    events.emit({ type: 'document.deleted', docId: id, at: Date.now() })
    return reply.code(204).send()
  })

  // Admin listing (R56): ids in order, a page at a time; `nextCursor` continues after the last.
  app.get('/api/docs', listRoute, async (request: ListRequest, reply) => {
    const key = bearerOf(request)
    if (adminApiKey === null || key === null) return sendReason(reply, CLOSE_REASONS.unauthorized)
    if (!isAdminKey(key, adminApiKey)) return sendReason(reply, CLOSE_REASONS.forbidden)
    const limit = request.query.limit ?? 100
    const page = await store.list({ after: request.query.cursor, limit: limit + 1 })
    const docs = page.slice(0, limit).map(({ id, meta }) => ({
      id,
      createdAt: new Date(meta.createdAt).toISOString(),
      updatedAt: new Date(meta.updatedAt).toISOString(),
      version: meta.version,
      storedBytes: meta.storedBytes,
    }))
    return { docs, nextCursor: page.length > limit ? (docs.at(-1)?.id ?? null) : null }
  })

  // Rename (R60): the home list sets a title without opening the editor. A server-side change like
  // a restore: every connected client receives it as an edit, and the answer waits until durable.
  app.put('/api/docs/:id/title', titleRoute, async (request: TitleRequest, reply) => {
    if (!(await authorize(request, reply, 'edit'))) return reply
    const raw: unknown = request.body.title
    if (typeof raw !== 'string' || raw.length > MAX_TITLE_LENGTH * 2)
      return sendReason(reply, CLOSE_REASONS.malformedMessage)
    const title = titleLine(raw)
    // Not cut: the person renaming would not learn that the end of their title was lost.
    if (title.length > MAX_TITLE_LENGTH) return sendReason(reply, CLOSE_REASONS.malformedMessage)
    try {
      await registry.change(request.params.id, (doc) => {
        const text = doc.getText(DOC_TITLE)
        // The same title again changes nothing: no update, no version, no webhook.
        if (text.toString() === title) return
        text.delete(0, text.length)
        text.insert(0, title)
      })
    } catch (error) {
      if (error instanceof RoomUnavailableError) return sendReason(reply, error.reason)
      throw error
    }
    return { id: request.params.id, title }
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

/** 72 random bits, URL-safe: unguessable, so an id alone grants nothing and leaks nothing. */
function newDocId(): string {
  return randomBytes(9).toString('base64url')
}
