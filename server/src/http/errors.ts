import type { ServerResponse } from 'node:http'
import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { retryAfterSeconds } from './limits.ts'

/** An HTTP refusal from the close-reason catalogue: its status, JSON reason, Retry-After (R34). */
export function sendReason(reply: FastifyReply, reason: CloseReason): FastifyReply {
  const retryAfter = retryAfterSeconds(reason)
  if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter))
  return reply.code(reason.status).send({ error: reason.text, code: reason.code })
}

/** The same for a raw response (hijacked routes such as the event stream). */
export function writeReason(response: ServerResponse, reason: CloseReason): void {
  const retryAfter = retryAfterSeconds(reason)
  response.writeHead(reason.status, {
    'Content-Type': 'application/json',
    ...(retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) }),
  })
  response.end(JSON.stringify({ error: reason.text, code: reason.code }))
}

/**
 * Fastify's own refusals (body too large, bad JSON, schema mismatch) answered in the catalogue's
 * shape; anything else is a 500 that is logged, never a crash (SPEC R11).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500
    if (status === 413) return sendReason(reply, CLOSE_REASONS.messageTooBig)
    if (status === 415 || (status >= 400 && status < 500))
      return sendReason(reply, CLOSE_REASONS.malformedMessage)
    request.log.error({ err: error }, 'request failed')
    return sendReason(reply, CLOSE_REASONS.internalError)
  })
}
