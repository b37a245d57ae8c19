import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import { documentPath, type LinkMode } from '../route.ts'

/** Another way into the document that may work where this one did not. */
export interface WayOut {
  readonly path: string
  readonly label: string
}

/**
 * What to offer after a refusal: a view link pasted as an edit link opens read-only; a link reset
 * in another tab of this browser left the new one in storage.
 */
export function wayOutOf(
  reason: CloseReason,
  {
    mode,
    docId,
    token,
    storedToken,
  }: { mode: LinkMode; docId: string; token: string; storedToken: string | null },
): WayOut | null {
  if (mode === 'edit' && reason === CLOSE_REASONS.readOnly) {
    return { path: documentPath('view', docId, token), label: 'Open it read-only' }
  }
  if (storedToken !== null && storedToken !== token) {
    return {
      path: documentPath(mode, docId, storedToken),
      label: 'Open the newer link saved in this browser',
    }
  }
  return null
}

/**
 * Why the page was turned away, in plain words (SPEC R63): what happened and what to do, never the
 * code or the server's wording, which the banner keeps under "Details". A token that does not
 * verify is almost always a link that was reset (R19): an altered or foreign token reads the same.
 */
export function refusalText(reason: CloseReason, mode: LinkMode): string {
  switch (reason) {
    case CLOSE_REASONS.forbidden:
      return 'The links to this document were reset; ask the owner for a new one.'
    case CLOSE_REASONS.unauthorized:
      return 'This link is incomplete; ask the owner for the whole link.'
    case CLOSE_REASONS.docNotFound:
      return 'This document no longer exists.'
    case CLOSE_REASONS.invalidDocId:
      return 'This address does not name a document; check the link.'
    case CLOSE_REASONS.readOnly:
      return mode === 'edit'
        ? 'This is a view link: it shows the document but cannot change it.'
        : 'This link cannot change the document.'
    default:
      return 'This document cannot be opened with this link.'
  }
}
