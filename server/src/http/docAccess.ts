import { CLOSE_REASONS, isValidDocId } from '@tandem/shared'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Access } from '../auth/access.ts'
import type { Role } from '../core/types.ts'
import type { DocStore } from '../persistence/DocStore.ts'
import { isAdminKey } from './adminKey.ts'
import { sendReason } from './errors.ts'

/** A request of a document route: the id in the path, a link token in `?k=` or a bearer header. */
export type DocRequest = FastifyRequest<{ Params: { id: string }; Querystring: { k?: string } }>

/**
 * Resolves to the caller's role on the request's document, or sends the refusal and resolves to
 * null. Every document route calls it first (SPEC R17); `needs: 'edit'` refuses a view link with
 * 4405/403, on every path (R20).
 */
export type Authorize = (request: DocRequest, reply: FastifyReply, needs: Role) => Promise<Role | null>

export function createAuthorize(deps: {
  readonly store: DocStore
  readonly access: Access
  readonly adminApiKey: string | null
}): Authorize {
  const { store, access, adminApiKey } = deps
  // The admin key acts as an edit token of every document that exists, sent as a bearer
  // credential only: a query string ends up in proxy access logs, and the admin key opens every
  // document.
  return async (request, reply, needs) => {
    if (isAdminKey(bearerOf(request), adminApiKey)) {
      const id = request.params.id
      const reason = !isValidDocId(id)
        ? CLOSE_REASONS.invalidDocId
        : (await store.getMeta(id))
          ? null
          : CLOSE_REASONS.docNotFound
      if (reason) await sendReason(reply, reason)
      return reason ? null : 'edit'
    }
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
}

/** `Authorization: Bearer <token>`, else `?k=<token>` (what links and EventSource can carry). */
export function tokenOf(request: DocRequest): string | null {
  return bearerOf(request) ?? request.query.k ?? null
}

export function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null
}
