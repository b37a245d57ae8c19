/**
 * The one catalogue of reasons a connection or request is refused or ended. The same entry gives
 * the WebSocket close code, the HTTP status and the text the client UI shows (STYLE.md 7,
 * docs/PROTOCOL.md §4). Application close codes are 4000 + the matching HTTP status, but for 4001
 * and 4002 (superseded, unresponsive), which stay outside 4400–4499: stock y-websocket clients
 * treat that range as final, and these must let them reconnect.
 */
export interface CloseReason {
  /** WebSocket close code. */
  readonly code: number
  /** HTTP status for request/response transports. */
  readonly status: number
  /** Short, stable, human-readable reason; also the WebSocket close reason text. */
  readonly text: string
  /**
   * Whether the server considers the condition passing (it sends `Retry-After` for it). Tandem's
   * client retries everything but the final reasons (see `isFinalReason`).
   */
  readonly isRetryable: boolean
}

function reason(code: number, status: number, text: string, isRetryable: boolean): CloseReason {
  return Object.freeze({ code, status, text, isRetryable })
}

export const CLOSE_REASONS = {
  normal: reason(1000, 200, 'closed', false),
  serverShutdown: reason(1012, 503, 'server restarting', true),
  internalError: reason(1011, 500, 'internal error', true),
  messageTooBig: reason(1009, 413, 'message too big', false),
  // Sent by the WebSocket library itself for frames that break RFC 6455 (SPEC R30).
  protocolViolation: reason(1002, 400, 'websocket protocol error', false),
  invalidFramePayload: reason(1007, 400, 'invalid frame payload', false),
  policyViolation: reason(1008, 400, 'too many fragments', false),
  invalidDocId: reason(4400, 400, 'invalid document id', false),
  malformedMessage: reason(4402, 400, 'malformed message', false),
  unauthorized: reason(4401, 401, 'missing link token', false),
  forbidden: reason(4403, 403, 'link not valid for this document (wrong document, altered, or reset)', false),
  docNotFound: reason(4404, 404, 'document not found', false),
  readOnly: reason(4405, 403, 'view link: document is read-only', false),
  slowReader: reason(4408, 503, 'client too slow reading', true),
  sessionExpired: reason(4410, 410, 'poll session expired', true),
  conflict: reason(4409, 409, 'out-of-order request', true),
  tooManyRequests: reason(4429, 429, 'too many requests', true),
  badOrigin: reason(4406, 403, 'origin not allowed', false),
  invalidUpdate: reason(4422, 422, 'update rejected: it would corrupt the document', false),
  foreignClient: reason(4423, 403, 'update rejected: written as another client', false),
  invalidAwareness: reason(4424, 422, 'presence update rejected', false),
  docUnavailable: reason(4503, 503, 'document unavailable', true),
  // A newer connection of the same writer took this one's place (SPEC R36): its client is gone.
  superseded: reason(4001, 409, 'replaced by a newer connection of the same client', true),
  // Another connection needed this one's ids and it did not answer a liveness check (SPEC R36).
  unresponsive: reason(4002, 408, 'connection did not answer', true),
} as const satisfies Record<string, CloseReason>

export type CloseReasonName = keyof typeof CLOSE_REASONS

/** Looks a close code up in the catalogue; unknown codes map to undefined. */
export function closeReasonByCode(code: number): CloseReason | undefined {
  return Object.values(CLOSE_REASONS).find((entry) => entry.code === code)
}

/**
 * The only reasons after which a client stops reconnecting (SPEC R12): the link or document is
 * not valid, so no retry can succeed. Everything else — bad input, limits, server trouble — is
 * retried with backoff, so a transient fault never turns a page read-only.
 */
const FINAL_CODES: ReadonlySet<number> = new Set([
  CLOSE_REASONS.invalidDocId.code,
  CLOSE_REASONS.unauthorized.code,
  CLOSE_REASONS.forbidden.code,
  CLOSE_REASONS.docNotFound.code,
  CLOSE_REASONS.badOrigin.code,
])

export function isFinalReason(reason: CloseReason): boolean {
  return FINAL_CODES.has(reason.code)
}
