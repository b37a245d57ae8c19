import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { LinkMode } from '../route.ts'
import { refusalText, type WayOut } from './wayOut.ts'

interface Props {
  readonly reason: CloseReason
  readonly mode: LinkMode
  readonly wayOut: WayOut | null
}

/** Why the server turned this page away for good, and what the person can do about it (R63). */
export function RefusalBanner({ reason, mode, wayOut }: Props) {
  return (
    <div className="banner" role="alert" data-testid="refusal">
      <p className="banner-headline">{refusalText(reason, mode)}</p>
      {mode === 'edit' && reason === CLOSE_REASONS.forbidden && (
        <p>Edits not saved yet are kept in this browser and are sent when you open the new link.</p>
      )}
      {wayOut !== null && (
        <p>
          <a href={wayOut.path}>{wayOut.label}</a>
        </p>
      )}
      <details>
        <summary>Details</summary>
        The server refused the connection: {reason.text} ({reason.code}).
      </details>
    </div>
  )
}
