import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { LinkMode } from '../route.ts'

interface Props {
  readonly reason: CloseReason
  readonly mode: LinkMode
  /** A different, newer link this browser holds for the document (e.g. reset in another tab). */
  readonly newerLinkPath: string | null
}

/** Why the server turned this page away for good, and what the person can do about it. */
export function RefusalBanner({ reason, mode, newerLinkPath }: Props) {
  const isLinkProblem = reason === CLOSE_REASONS.forbidden || reason === CLOSE_REASONS.unauthorized
  return (
    <div className="banner" role="alert" data-testid="refusal">
      {isLinkProblem ? (
        <p>
          This link no longer opens the document: {reason.text}. Links stop working when someone resets
          them; ask an editor for the current {mode === 'edit' ? 'edit' : 'view'} link.
        </p>
      ) : (
        <p>This document cannot be opened: {reason.text}.</p>
      )}
      {mode === 'edit' && <p>Edits on this page that were not saved yet will not be kept.</p>}
      {newerLinkPath !== null && (
        <p>
          <a href={newerLinkPath}>Open the newer link saved in this browser</a>
        </p>
      )}
    </div>
  )
}
