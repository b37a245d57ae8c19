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
