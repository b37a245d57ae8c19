import { isValidDocId } from '@tandem/shared'

/** The client's pages. Navigation between them is a full page load, so no router is needed. */
export type Route =
  | { readonly kind: 'home' }
  | { readonly kind: 'editor'; readonly docId: string }
  | { readonly kind: 'notFound' }

const EDITOR_PATH = /^\/d\/([^/]+)\/?$/

export function routeFromPath(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { kind: 'home' }
  const docId = EDITOR_PATH.exec(pathname)?.[1]
  if (docId !== undefined && isValidDocId(docId)) return { kind: 'editor', docId }
  return { kind: 'notFound' }
}

export function editorPath(docId: string): string {
  return `/d/${docId}`
}

/**
 * Reads what a user pastes into "Open by id": a bare id, or a whole document link (people copy
 * the address bar). Returns null unless the result is a valid id (SPEC R3).
 */
export function docIdFromInput(input: string): string | null {
  const trimmed = input.trim()
  const fromLink = /\/d\/([^/?#]+)/.exec(trimmed)?.[1]
  const candidate = fromLink ?? trimmed
  return isValidDocId(candidate) ? candidate : null
}
