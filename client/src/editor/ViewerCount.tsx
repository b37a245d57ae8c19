import type { Awareness } from 'y-protocols/awareness'
import { EyeIcon } from '../ui/EyeIcon.tsx'
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
