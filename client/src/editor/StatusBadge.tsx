import { useId } from 'react'
import type { ProviderStatus } from '../sync/index.ts'
import {
  READ_ONLY_LABEL,
  connectionDetails,
  connectionLabel,
  countdownLabel,
  retryWaitOf,
  saveLabel,
} from './statusText.ts'
import { useCountdown } from './useCountdown.ts'

interface Props {
  readonly status: ProviderStatus
  /** A viewer never has edits to save; the badge says "Read only" where it would say "Saved". */
  readonly isReadOnly?: boolean
}

/**
 * The connection and save state in a few words, "Retry now" while waiting to reconnect, and the
 * technical details (transport, last problem, next attempt) in a popover and the tooltip.
 */
export function StatusBadge({ status, isReadOnly = false }: Props) {
  const { connection } = status
  const wait = retryWaitOf(connection)
  const secondsLeft = useCountdown(wait) ?? 0
  const save = saveLabel(status.save)
  const details = connectionDetails(status, secondsLeft)
  const countdown = countdownLabel(connection, secondsLeft)
  const detailsId = useId()
  return (
    <div
      className="status-badge"
      data-testid="status-badge"
      data-synced={status.isSynced}
      title={details.map(({ label, value }) => `${label}: ${value}`).join('\n')}
    >
      <span className="status-text" role="status" aria-live="polite">
        <span
          className={`status-connection status-connection-${connection.kind}`}
          data-testid="connection-state"
          data-state={connection.kind}
        >
          {connectionLabel(connection, isReadOnly)}
        </span>{' '}
        {isReadOnly ? (
          <span className="status-read-only" data-testid="read-only">
            {READ_ONLY_LABEL}
          </span>
        ) : (
          <span className={`status-save status-save-${status.save}`}>
            <span data-testid="save-state">{save.short}</span>
            {save.detail !== null && <span className="status-save-detail"> — {save.detail}</span>}
          </span>
        )}
      </span>
      {countdown !== null && (
        // Ticks every second: kept out of the live region so screen readers are not told each tick.
        <span className="status-countdown" data-testid="retry-countdown" aria-hidden="true">
          {countdown}
        </span>
      )}
      {wait !== null && (
        <button
          type="button"
          className="button button-small"
          data-testid="retry-now"
          onClick={() => wait.retryNow()}
        >
          Retry now
        </button>
      )}
      <button
        type="button"
        className="button button-small status-details-button"
        popoverTarget={detailsId}
        aria-label="Connection details"
      >
        Details
      </button>
      <div id={detailsId} className="status-details" popover="auto" data-testid="status-details">
        <dl>
          {details.map(({ label, value }) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd data-testid={label === 'Transport' ? 'transport' : undefined}>{value}</dd>
            </div>
          ))}
        </dl>
      </div>
    </div>
  )
}
