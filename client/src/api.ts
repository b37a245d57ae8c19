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
  /** The document's title (R60); '' while untitled. */
  readonly title: string
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

/** Sets the title (R60) from outside the editor: `PUT /api/docs/:id/title`, edit token only. */
export async function setDocumentTitle(docId: string, editToken: string, title: string): Promise<string> {
  const init: RequestInit = {
    method: 'PUT',
    headers: { Authorization: `Bearer ${editToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title }),
  }
  const body = await requestJson(`/api/docs/${encodeURIComponent(docId)}/title`, init, 200)
  const saved = typeof body === 'object' && body !== null ? (body as { title?: unknown }).title : null
  if (typeof saved !== 'string') throw new ApiError('the server sent an unexpected reply')
  return saved
}

/** Deletes the document for everyone (R55): `DELETE /api/docs/:id`, edit token only. */
export async function deleteDocument(docId: string, editToken: string): Promise<void> {
  const response = await send(`/api/docs/${encodeURIComponent(docId)}`, {
    ...withToken(editToken),
    method: 'DELETE',
  })
  if (response.status !== 204) throw await errorFrom(response)
}

/** An export of the document (R54) as a file's bytes: `GET /api/docs/:id/content?format=`. */
export async function fetchExport(docId: string, token: string, format: string): Promise<Blob> {
  const path = `/api/docs/${encodeURIComponent(docId)}/content?format=${encodeURIComponent(format)}`
  const response = await send(path, withToken(token))
  if (response.status !== 200) throw await errorFrom(response)
  return response.blob()
}

function withToken(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } }
}

/** One version of a document's history (R62, docs/PROTOCOL.md §3.5). */
export interface VersionInfo {
  readonly id: string
  readonly createdAtMs: number
  /** Set for a named version ("Save version…"). */
  readonly name: string | null
  /** Why an automatic version was taken: 'pause', 'left', 'before-restore', 'shutdown'. */
  readonly cause: string | null
  readonly authors: readonly string[]
  readonly bytes: number
}

function versionsPath(docId: string, rest = ''): string {
  return `/api/docs/${encodeURIComponent(docId)}/versions${rest}`
}

/** The document's versions, newest first; either token. */
export async function listVersions(docId: string, token: string): Promise<VersionInfo[]> {
  const body = await requestJson(versionsPath(docId), withToken(token), 200)
  const versions =
    typeof body === 'object' && body !== null ? (body as { versions?: unknown }).versions : null
  if (!Array.isArray(versions)) throw new ApiError('the server sent an unexpected reply')
  return versions.flatMap((value: unknown) => toVersionInfo(value) ?? [])
}

/** Saves the current state as a named version; the edit token only. */
export async function saveVersion(docId: string, editToken: string, name: string): Promise<VersionInfo> {
  const init: RequestInit = {
    method: 'POST',
    headers: { Authorization: `Bearer ${editToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  }
  const version = toVersionInfo(await requestJson(versionsPath(docId), init, 201))
  if (version === null) throw new ApiError('the server sent an unexpected reply')
  return version
}

/** A version's stored Yjs state, for a read-only view of it. */
export async function fetchVersionState(
  docId: string,
  token: string,
  versionId: string,
): Promise<Uint8Array> {
  const path = versionsPath(docId, `/${encodeURIComponent(versionId)}/content?format=yjs`)
  const response = await send(path, withToken(token))
  if (response.status !== 200) throw await errorFrom(response)
  return new Uint8Array(await response.arrayBuffer())
}

/**
 * Restores a version as a new change everyone sees; the server first keeps the current state as a
 * "before restore" version, returned here (restoring it undoes this restore).
 */
export async function restoreVersion(
  docId: string,
  editToken: string,
  versionId: string,
): Promise<VersionInfo> {
  const path = versionsPath(docId, `/${encodeURIComponent(versionId)}/restore`)
  const body = await requestJson(path, { ...withToken(editToken), method: 'POST' }, 200)
  const before = toVersionInfo(
    typeof body === 'object' && body !== null ? (body as { before?: unknown }).before : null,
  )
  if (before === null) throw new ApiError('the server sent an unexpected reply')
  return before
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { ...init, cache: 'no-store' })
  } catch {
    throw new ApiError('the server cannot be reached')
  }
}

async function requestJson(path: string, init: RequestInit, expectedStatus: number): Promise<unknown> {
  const response = await send(path, init)
  if (response.status !== expectedStatus) throw await errorFrom(response)
  return response.json().catch(() => null)
}

function toVersionInfo(value: unknown): VersionInfo | null {
  if (typeof value !== 'object' || value === null) return null
  const { id, createdAt, kind, name, cause, authors, bytes } = value as Record<string, unknown>
  const createdAtMs = typeof createdAt === 'string' ? Date.parse(createdAt) : Number.NaN
  const isValid =
    typeof id === 'string' &&
    Number.isFinite(createdAtMs) &&
    ((kind === 'named' && typeof name === 'string') || (kind === 'auto' && typeof cause === 'string')) &&
    isStringArray(authors) &&
    isCount(bytes)
  if (!isValid) return null
  return {
    id,
    createdAtMs,
    name: kind === 'named' ? (name as string) : null,
    cause: kind === 'auto' ? (cause as string) : null,
    authors,
    bytes,
  }
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
  const {
    id,
    title = '',
    updatedAt,
    version,
    viewers,
    editorNames,
    viewerNames,
  } = value as Record<string, unknown>
  const updatedAtMs = typeof updatedAt === 'string' ? Date.parse(updatedAt) : Number.NaN
  const isValid =
    id === docId &&
    typeof title === 'string' &&
    Number.isFinite(updatedAtMs) &&
    isCount(version) &&
    isCount(viewers) &&
    isStringArray(editorNames) &&
    isStringArray(viewerNames)
  return isValid ? { id, title, updatedAtMs, version, viewers, editorNames, viewerNames } : null
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

/** What to tell a person about a failed request: the API's own wording where it gave one. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
