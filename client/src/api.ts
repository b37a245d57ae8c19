import { closeReasonByCode, isValidDocId, type CloseReason } from '@tandem/shared'

/** The REST calls the pages make (docs/PROTOCOL.md §3). */

/** A document's two capability links, as `POST /api/docs` and the links routes return them. */
export interface DocumentLinks {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
  /** `/d/<id>?k=<editToken>`: relative to the server's origin. */
  readonly editUrl: string
  /** `/v/<id>?k=<viewToken>`. */
  readonly viewUrl: string
}

export class ApiError extends Error {
  override readonly name = 'ApiError'

  /**
   * `reason`: the catalogue entry the server answered with, when it sent one (STYLE.md 7).
   * `retryAfterMs`: how long the server asked us to wait before trying again (`Retry-After`).
   */
  constructor(
    message: string,
    readonly reason: CloseReason | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message)
  }
}

export function createDocument(): Promise<DocumentLinks> {
  return requestLinks('/api/docs', { method: 'POST' }, 201, null)
}

/** Needs the edit token: a view token is refused with `readOnly` (4405). */
export function fetchLinks(docId: string, editToken: string): Promise<DocumentLinks> {
  return requestLinks(`/api/docs/${encodeURIComponent(docId)}/links`, withToken(editToken), 200, docId)
}

/**
 * Issues new links; the old ones stop working at once and the server closes every connection to
 * the document, the caller's own included, so the caller must reconnect with the new edit token.
 */
export function resetLinks(docId: string, editToken: string): Promise<DocumentLinks> {
  return requestLinks(
    `/api/docs/${encodeURIComponent(docId)}/links/reset`,
    { ...withToken(editToken), method: 'POST' },
    200,
    docId,
  )
}

/** A document's live state, from `GET /api/docs/:id` (R27): what the home page shows per entry. */
export interface DocStatus {
  readonly id: string
  /** When the last edit was stored. */
  readonly updatedAtMs: number
  /** Stored updates so far: 0 until someone edits. */
  readonly version: number
  readonly viewers: number
  /** Display names of the editors connected now, sorted; one per connection. */
  readonly editorNames: readonly string[]
  /** Names of the viewers connected now; '' for an anonymous one. */
  readonly viewerNames: readonly string[]
}

/** The answer to a conditional status request. */
export type DocStatusReply =
  | { readonly kind: 'changed'; readonly status: DocStatus; readonly etag: string | null }
  /** 304: nothing changed since the answer that carried the ETag we sent. */
  | { readonly kind: 'unchanged' }

export interface DocStatusRequest {
  /** The ETag of the last answer, sent as `If-None-Match`; null asks unconditionally. */
  readonly etag: string | null
  readonly signal?: AbortSignal
  readonly fetchImpl?: typeof fetch
}

/**
 * `GET /api/docs/:id` with either token. `cache: 'no-store'` keeps the browser's HTTP cache out of
 * the way: with it, the browser would add its own validators and hand us its cached 200 for the
 * server's 304, and we could no longer tell "nothing changed" from an answer.
 */
export async function fetchDocStatus(
  docId: string,
  token: string,
  { etag, signal, fetchImpl = globalThis.fetch }: DocStatusRequest,
): Promise<DocStatusReply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` }
  if (etag !== null) headers['If-None-Match'] = etag
  let response: Response
  try {
    response = await fetchImpl(`/api/docs/${encodeURIComponent(docId)}`, {
      headers,
      cache: 'no-store',
      signal: signal ?? null,
    })
  } catch {
    throw new ApiError('the server cannot be reached')
  }
  if (response.status === 304) return { kind: 'unchanged' }
  if (response.status !== 200) throw await errorFrom(response)
  const status = toDocStatus(await response.json().catch(() => null), docId)
  if (status === null) throw new ApiError('the server sent an unexpected reply')
  return { kind: 'changed', status, etag: response.headers.get('ETag') }
}

function withToken(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } }
}

/** `docId`: the document asked about, which the reply may leave out; null when creating one. */
async function requestLinks(
  path: string,
  init: RequestInit,
  expectedStatus: number,
  docId: string | null,
): Promise<DocumentLinks> {
  let response: Response
  try {
    response = await fetch(path, init)
  } catch {
    throw new ApiError('the server cannot be reached')
  }
  if (response.status !== expectedStatus) throw await errorFrom(response)
  const links = toDocumentLinks(await response.json().catch(() => null), docId)
  if (links === null) throw new ApiError('the server sent an unexpected reply')
  return links
}

/** Errors are `{ error, code }` with a catalogue close code (docs/PROTOCOL.md §4). */
async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    // Not JSON (a proxy's error page, say): the status is all we have.
  }
  const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['code'] : null
  const reason = typeof code === 'number' ? (closeReasonByCode(code) ?? null) : null
  return new ApiError(
    reason?.text ?? `the server answered ${response.status}`,
    reason,
    retryAfterMsOf(response.headers.get('Retry-After')),
  )
}

/** `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMsOf(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null || header.trim() === '') return null
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const dateMs = Date.parse(header)
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - nowMs) : null
}

function toDocumentLinks(value: unknown, docId: string | null): DocumentLinks | null {
  if (typeof value !== 'object' || value === null) return null
  const { id = docId, editToken, viewToken, editUrl, viewUrl } = value as Record<string, unknown>
  const isValid =
    typeof id === 'string' &&
    isValidDocId(id) &&
    (docId === null || id === docId) &&
    typeof editToken === 'string' &&
    editToken !== '' &&
    typeof viewToken === 'string' &&
    viewToken !== '' &&
    isSitePath(editUrl) &&
    isSitePath(viewUrl)
  return isValid ? { id, editToken, viewToken, editUrl, viewUrl } : null
}

function toDocStatus(value: unknown, docId: string): DocStatus | null {
  if (typeof value !== 'object' || value === null) return null
  const { id, updatedAt, version, viewers, editorNames, viewerNames } = value as Record<string, unknown>
  const updatedAtMs = typeof updatedAt === 'string' ? Date.parse(updatedAt) : Number.NaN
  const isValid =
    id === docId &&
    Number.isFinite(updatedAtMs) &&
    isCount(version) &&
    isCount(viewers) &&
    isStringArray(editorNames) &&
    isStringArray(viewerNames)
  return isValid ? { id, updatedAtMs, version, viewers, editorNames, viewerNames } : null
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** We navigate to these: `//host/…` would leave the site. */
function isSitePath(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
}
