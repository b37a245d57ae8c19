import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { LinkMode } from '../route.ts'
import type { WayOut } from './wayOut.ts'

interface Props {
  readonly reason: CloseReason
  readonly mode: LinkMode
  readonly wayOut: WayOut | null
}

/** Why the server turned this page away for good, and what the person can do about it. */
export function RefusalBanner({ reason, mode, wayOut }: Props) {
  const isLinkProblem = reason === CLOSE_REASONS.forbidden || reason === CLOSE_REASONS.unauthorized
  return (
    <div className="banner" role="alert" data-testid="refusal">
      {isLinkProblem ? (
        <p>
          This link does not open the document: {reason.text}. Ask an editor for the current{' '}
          {mode === 'edit' ? 'edit' : 'view'} link.
        </p>
      ) : (
        <p>This document cannot be opened: {reason.text}.</p>
      )}
      {mode === 'edit' && reason === CLOSE_REASONS.forbidden && (
        <p>Edits not saved yet are kept in this browser and are sent when you open the new link.</p>
      )}
      {wayOut !== null && (
        <p>
          <a href={wayOut.path}>{wayOut.label}</a>
        </p>
      )}
    </div>
  )
}
