import { useEffect, useRef, useState } from 'react'
import type { ProviderStatus } from '../sync/index.ts'
import { Popover } from '../ui/Popover.tsx'
import {
  READ_ONLY_LABEL,
  announcement,
  connectionDetails,
  retryWaitOf,
  saveLabel,
  statusHeadline,
  statusPhase,
  type StatusPhase,
} from './statusText.ts'
import { useCountdown } from './useCountdown.ts'

interface Props {
  readonly status: ProviderStatus
  /** A viewer never has edits to save; the badge says "Read only" where it would say "Saved". */
  readonly isReadOnly?: boolean
}

/**
 * The page's state in plain words (SPEC R63), "Retry now" while waiting to reconnect, and the
 * technical side (transport, last problem, next attempt) in a popover behind the words. Screen
 * readers hear the changes that matter from one polite live region, not each Saving/Saved flip.
 */
export function StatusBadge({ status, isReadOnly = false }: Props) {
  const { connection } = status
  const wait = retryWaitOf(connection)
  const secondsLeft = useCountdown(wait) ?? 0
  const headline = statusHeadline(status, isReadOnly)
  const details = connectionDetails(status, secondsLeft)
  const spoken = useAnnouncement(statusPhase(status, isReadOnly), isReadOnly)
  return (
    <div
      className={`status-badge status-tone-${headline.tone}`}
      data-testid="status-badge"
      data-synced={status.isSynced}
    >
      <Popover
        buttonClassName="status-button"
        buttonTestId="status-details-button"
        button={
          <>
            <span className="status-dot" aria-hidden="true" />
            <span
              className="status-label"
              data-testid="connection-state"
              data-state={connection.kind}
              title={headline.text}
            >
              {headline.text === READ_ONLY_LABEL ? (
                <span data-testid="read-only">{READ_ONLY_LABEL}</span>
              ) : (
                headline.text
              )}
            </span>
            <span className="visually-hidden">, connection details</span>
          </>
        }
        panelLabel="Connection details"
        panelClassName="status-details"
        panelTestId="status-details"
      >
        <p className="popover-title">Connection details</p>
        <dl>
          {details.map(({ label, value }) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd data-testid={label === 'Transport' ? 'transport' : undefined}>{value}</dd>
            </div>
          ))}
          {!isReadOnly && (
            <div>
              <dt>Changes</dt>
              <dd data-testid="save-state">{saveLabel(status.save)}</dd>
            </div>
          )}
        </dl>
      </Popover>
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
      <span className="visually-hidden" role="status" data-testid="status-announcement">
        {spoken}
      </span>
    </div>
  )
}

/** The live region's text: the last change of phase worth saying (statusText.announcement). */
function useAnnouncement(phase: StatusPhase, isReadOnly: boolean): string {
  const previous = useRef<StatusPhase | null>(null)
  const [text, setText] = useState('')
  useEffect(() => {
    const said = announcement(previous.current, phase, isReadOnly)
    previous.current = phase
    if (said !== null) setText(said)
  }, [phase, isReadOnly])
  return text
}
