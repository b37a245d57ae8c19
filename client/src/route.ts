import { isValidDocId } from '@tandem/shared'
import type { TransportName } from './sync/index.ts'

/** The client's pages. Navigation between them is a full page load, so no router is needed. */
export type Route =
  | { readonly kind: 'home' }
  | { readonly kind: 'editor'; readonly docId: string }
  | { readonly kind: 'viewer'; readonly docId: string }
  | { readonly kind: 'notFound' }

/** What a link lets its holder do: `/d/` links edit, `/v/` links only watch. */
export type LinkMode = 'edit' | 'view'

/** The capability token in a document link: `/d/<id>?k=<editToken>`, `/v/<id>?k=<viewToken>`. */
export const TOKEN_PARAM = 'k'

const DOC_PATH = /^\/([dv])\/([^/]+)\/?$/
const PATH_PREFIX: Record<LinkMode, string> = { edit: 'd', view: 'v' }

export function routeFromPath(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { kind: 'home' }
  const match = DOC_PATH.exec(pathname)
  const docId = match?.[2]
  if (docId === undefined || !isValidDocId(docId)) return { kind: 'notFound' }
  return { kind: match?.[1] === 'v' ? 'viewer' : 'editor', docId }
}

/** The page a link opens, token included: what the share dialog hands out. */
export function documentPath(mode: LinkMode, docId: string, token: string): string {
  const search = new URLSearchParams({ [TOKEN_PARAM]: token })
  return `/${PATH_PREFIX[mode]}/${docId}?${search.toString()}`
}

export function tokenFromSearch(search: string): string | null {
  const token = new URLSearchParams(search).get(TOKEN_PARAM)
  return token === null || token === '' ? null : token
}

/**
 * `?transport=longpoll` pins a document page to one transport, with no automatic fallback (R26):
 * for networks where the fallback guesses wrong, and for tests. It is personal, so share links
 * never carry it, but the address bar keeps it so a reload stays on the same transport.
 */
export const TRANSPORT_PARAM = 'transport'

const TRANSPORT_NAMES: readonly TransportName[] = ['websocket', 'sse', 'longpoll', 'poll']

/** The forced transport, or null (automatic) when absent or not one we know. */
export function transportFromSearch(search: string): TransportName | null {
  const name = new URLSearchParams(search).get(TRANSPORT_PARAM)
  return TRANSPORT_NAMES.find((known) => known === name) ?? null
}

/** What was typed or pasted into "Open by id or link". */
export type OpenTarget =
  | { readonly kind: 'link'; readonly mode: LinkMode; readonly docId: string; readonly token: string }
  /** A bare id (or a link without its token): opens only if this browser remembers a token. */
  | { readonly kind: 'id'; readonly docId: string }

const LINK_IN_TEXT = /\/([dv])\/([^/?#]+)\/?(\?[^#\s]*)?/

/**
 * Reads a pasted edit or view link (people copy the address bar, with or without the origin) or a
 * bare id. Returns null unless the id is valid (SPEC R3).
 */
export function openTargetFromInput(input: string): OpenTarget | null {
  const trimmed = input.trim()
  const match = LINK_IN_TEXT.exec(trimmed)
  const docId = match?.[2] ?? trimmed
  if (!isValidDocId(docId)) return null
  const token = tokenFromSearch(match?.[3] ?? '')
  if (match === null || token === null) return { kind: 'id', docId }
  return { kind: 'link', mode: match[1] === 'v' ? 'view' : 'edit', docId, token }
}
