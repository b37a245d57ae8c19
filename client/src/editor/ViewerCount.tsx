import type { Awareness } from 'y-protocols/awareness'
import { useAwareness } from './useAwareness.ts'
import { readViewers, viewerCountText, viewerNamesText } from './viewers.ts'

/** "N viewing": how many people watch through a view link, with their names on hover. */
export function ViewerCount({ awareness }: { awareness: Awareness }) {
  const viewers = useAwareness(awareness, readViewers)
  const names = viewerNamesText(viewers)
  return (
    <span
      className="viewer-count"
      data-testid="viewer-count"
      data-count={viewers.length}
      hidden={viewers.length === 0}
      title={names === '' ? undefined : `Viewing: ${names}`}
      aria-label={names === '' ? undefined : `${viewerCountText(viewers.length)}: ${names}`}
    >
      {viewerCountText(viewers.length)}
    </span>
  )
}
