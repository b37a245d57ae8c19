import type { ProviderStatus } from '../sync/index.ts'
import { connectionLabel, saveLabel, transportLabel } from './statusText.ts'
import { useCountdown } from './useCountdown.ts'

interface Props {
  readonly status: ProviderStatus
  /** A viewer never has edits to save; the badge says "View only" where it would say "Saved". */
  readonly isReadOnly?: boolean
}

export function StatusBadge({ status, isReadOnly = false }: Props) {
  const { connection } = status
  const secondsLeft = useCountdown(connection.kind === 'offline' ? connection : null)
  const save = saveLabel(status.save)
  return (
    <div
      className="status-badge"
      data-testid="status-badge"
      data-synced={status.isSynced}
      role="status"
      aria-live="polite"
    >
      <span className="status-transport" data-testid="transport">
        {transportLabel(status.transport)}
      </span>
      <span
        className={`status-connection status-connection-${connection.kind}`}
        data-testid="connection-state"
        data-state={connection.kind}
      >
        {connectionLabel(connection, secondsLeft ?? 0)}
      </span>
      {isReadOnly ? (
        <span className="status-read-only" data-testid="read-only">
          View only
        </span>
      ) : (
        <span className={`status-save status-save-${status.save}`}>
          <span data-testid="save-state">{save.short}</span>
          {save.detail !== null && <span className="status-save-detail"> — {save.detail}</span>}
        </span>
      )}
    </div>
  )
}
