import { CLOSE_REASONS, DOC_FRAGMENT, DOC_TITLE } from '@tandem/shared'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as Y from 'yjs'
import { RoomUnavailableError, type RoomRegistry } from '../core/RoomRegistry.ts'
import type { VersionRecorder } from '../core/VersionRecorder.ts'
import type { DocumentExporter } from '../export/DocumentExporter.ts'
import { EXPORT_MEDIA_TYPES, negotiateFormat } from '../export/formats.ts'
import {
  MAX_VERSION_NAME_LENGTH,
  VERSION_ID_PATTERN,
  type VersionMeta,
  type VersionStore,
} from '../persistence/VersionStore.ts'
import type { Authorize, DocRequest } from './docAccess.ts'
import { sendReason } from './errors.ts'

export interface VersionRoutesDeps {
  readonly versions: VersionStore
  readonly recorder: VersionRecorder
  readonly registry: RoomRegistry
  readonly authorize: Authorize
  readonly exporter: () => Promise<DocumentExporter>
}

type VersionRequest = FastifyRequest<{
  Params: { id: string; v: string }
  Querystring: { k?: string; format?: string }
}>
type NameRequest = FastifyRequest<{
  Params: { id: string }
  Querystring: { k?: string }
  Body: { name: string }
}>

const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const
const query = { type: 'object', properties: { k: { type: 'string' }, format: { type: 'string' } } } as const
const versionParams = {
  type: 'object',
  properties: { id: { type: 'string' }, v: { type: 'string', pattern: VERSION_ID_PATTERN.source } },
  required: ['id', 'v'],
} as const

/** Attempts at a restore whose "before" version keeps losing the race with live edits. */
const MAX_RESTORE_ATTEMPTS = 5

class StaleStateError extends Error {}

/**
 * Version history routes (SPEC R62, docs/PROTOCOL.md §3.5). Reading needs a view or edit link;
 * writing (save, restore) an edit link: a view link never changes a document, on any path (R20).
 */
export function registerVersionRoutes(app: FastifyInstance, deps: VersionRoutesDeps): void {
  const { versions, recorder, registry, authorize, exporter } = deps

  app.get(
    '/api/docs/:id/versions',
    { schema: { params: idParams, querystring: query } },
    async (request: DocRequest, reply) => {
      if (!(await authorize(request, reply, 'view'))) return reply
      const listed = await versions.list(request.params.id)
      return reply.header('Cache-Control', 'no-store').send({ versions: listed.map(toJson) })
    },
  )

  app.post(
    '/api/docs/:id/versions',
    {
      schema: {
        params: idParams,
        querystring: query,
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: MAX_VERSION_NAME_LENGTH * 2 } },
          required: ['name'],
        },
      },
    },
    async (request: NameRequest, reply) => {
      if (!(await authorize(request, reply, 'edit'))) return reply
      const name = request.body.name.trim()
      if (name === '' || name.length > MAX_VERSION_NAME_LENGTH)
        return sendReason(reply, CLOSE_REASONS.malformedMessage)
      return whenAvailable(reply, async () => {
        const meta = await recorder.record(request.params.id, { kind: 'named', name })
        return reply.code(201).send(toJson(meta))
      })
    },
  )

  // A version's content (R54's formats, plus `yjs`: the stored state itself, for the client's
  // read-only view). Rendered from a fresh Y.Doc: the live document is never touched.
  app.get(
    '/api/docs/:id/versions/:v/content',
    { schema: { params: versionParams, querystring: query } },
    async (request: VersionRequest, reply) => {
      if (!(await authorize(request, reply, 'view'))) return reply
      const found = await versions.get(request.params.id, request.params.v)
      if (!found) return versionNotFound(reply)
      reply.header('Cache-Control', 'no-store').header('X-Content-Type-Options', 'nosniff')
      if (request.query.format === 'yjs')
        return reply.type('application/octet-stream').send(Buffer.from(found.state))
      const negotiated = negotiateFormat(request.query.format, request.headers.accept)
      if (!negotiated.ok) return sendReason(reply, CLOSE_REASONS.malformedMessage)
      const { format } = negotiated
      const rendering = await exporter()
      const doc = new Y.Doc()
      try {
        Y.applyUpdate(doc, found.state)
        const body = rendering.render(doc, format)
        reply.header('Vary', 'Accept')
        if (format === 'html')
          reply.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
        return reply.type(`${EXPORT_MEDIA_TYPES[format]}; charset=utf-8`).send(body)
      } finally {
        doc.destroy()
      }
    },
  )

  // Restore: first a "before restore" version of the current state (so the restore is undone by
  // restoring that one), then the version's text and title replace the current ones as ONE
  // server-side change that every connected client receives as an edit.
  app.post(
    '/api/docs/:id/versions/:v/restore',
    { schema: { params: versionParams, querystring: query } },
    async (request: VersionRequest, reply) => {
      if (!(await authorize(request, reply, 'edit'))) return reply
      const docId = request.params.id
      const found = await versions.get(docId, request.params.v)
      if (!found) return versionNotFound(reply)
      return whenAvailable(reply, async () => {
        for (let attempt = 1; ; attempt++) {
          // The "before" version must hold every edit the restore replaces: if one lands between
          // taking it and applying the restore, take it again.
          const before = await registry.read(docId, (room) => room.fullState())
          const beforeVector = Y.encodeStateVectorFromUpdate(before)
          const saved = await recorder.record(docId, { kind: 'auto', cause: 'before-restore' }, before)
          try {
            await registry.change(docId, (doc) => {
              if (!sameStateVector(Y.encodeStateVector(doc), beforeVector)) throw new StaleStateError()
              replaceContent(doc, found.state)
            })
            return reply.send({ restored: found.meta.id, before: toJson(saved) })
          } catch (error) {
            if (!(error instanceof StaleStateError) || attempt >= MAX_RESTORE_ATTEMPTS) throw error
          }
        }
      })
    },
  )
}

/** Replaces `doc`'s text and title by those of the state `state` (called inside a transaction). */
function replaceContent(doc: Y.Doc, state: Uint8Array): void {
  const source = new Y.Doc()
  try {
    Y.applyUpdate(source, state)
    const fragment = doc.getXmlFragment(DOC_FRAGMENT)
    fragment.delete(0, fragment.length)
    // Clones are new, unintegrated types: inserting them copies the content, formatting included.
    const children = source
      .getXmlFragment(DOC_FRAGMENT)
      .toArray()
      .flatMap((child) =>
        child instanceof Y.XmlElement || child instanceof Y.XmlText ? [child.clone()] : [],
      )
    fragment.insert(0, children)
    const title = doc.getText(DOC_TITLE)
    title.delete(0, title.length)
    title.insert(0, source.getText(DOC_TITLE).toString())
  } finally {
    source.destroy()
  }
}

/** The version as the API shows it (docs/PROTOCOL.md §3.5). */
function toJson(meta: VersionMeta): Record<string, unknown> {
  return { ...meta, createdAt: new Date(meta.createdAt).toISOString() }
}

/** Runs a route that needs the live document: a deleted or unloadable one answers as joins do. */
async function whenAvailable(reply: FastifyReply, run: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof RoomUnavailableError) return sendReason(reply, error.reason)
    throw error
  }
}

function versionNotFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'version not found', code: CLOSE_REASONS.docNotFound.code })
}

/** Whether two encoded state vectors name the same clocks (their entries' order may differ). */
function sameStateVector(a: Uint8Array, b: Uint8Array): boolean {
  const left = Y.decodeStateVector(a)
  const right = Y.decodeStateVector(b)
  return left.size === right.size && [...left].every(([client, clock]) => right.get(client) === clock)
}
