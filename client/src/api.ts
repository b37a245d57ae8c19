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

  /** The catalogue entry the server answered with, when it sent one (STYLE.md 7). */
  constructor(
    message: string,
    readonly reason: CloseReason | null = null,
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
  return new ApiError(reason?.text ?? `the server answered ${response.status}`, reason)
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

/** We navigate to these: `//host/…` would leave the site. */
function isSitePath(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
}
