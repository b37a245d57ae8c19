import type { Awareness } from 'y-protocols/awareness'
import { Popover } from '../ui/Popover.tsx'
import { useIsNarrow } from '../ui/useIsNarrow.ts'
import { useAwareness } from './useAwareness.ts'
import { readViewers, viewerCountText, viewerNamesText } from './viewers.ts'

/**
 * "N viewing": how many people watch through a view link; a tap (or hover, for the tooltip) shows
 * who (SPEC R21, R63). Hidden while nobody watches.
 */
export function ViewerCount({ awareness }: { awareness: Awareness }) {
  const viewers = useAwareness(awareness, readViewers)
  const names = viewerNamesText(viewers)
  const text = viewerCountText(viewers.length)
  // A phone shows an eye and the number; the name stays "N viewing".
  const isNarrow = useIsNarrow()
  return (
    <Popover
      buttonClassName="header-count viewer-count"
      buttonTestId="viewer-count"
      buttonTitle={names === '' ? undefined : `Viewing: ${names}`}
      isButtonHidden={viewers.length === 0}
      buttonLabel={isNarrow ? text : undefined}
      button={
        isNarrow ? (
          <>
            <EyeIcon />
            {viewers.length}
          </>
        ) : (
          text
        )
      }
      panelLabel="People viewing"
      panelTestId="viewer-list"
    >
      <p className="popover-title">{text}</p>
      <ul className="viewer-names">
        {viewers.map((viewer) => (
          <li key={viewer.clientId}>{viewer.name === '' ? 'Anonymous' : viewer.name}</li>
        ))}
      </ul>
    </Popover>
  )
}

function EyeIcon() {
  return (
    <svg
      className="presence-eye"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      aria-hidden="true"
    >
      <path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z" />
      <circle cx="12" cy="12" r="3" />
    </svg>
  )
}
