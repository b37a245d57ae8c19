import { useSyncExternalStore } from 'react'

/** Phone width: where the header shows counts instead of lists (SPEC R63). Matches styles.css. */
export const NARROW_QUERY = '(max-width: 640px)'

/** Whether the viewport is phone-narrow, following rotation and resizes. */
export function useIsNarrow(): boolean {
  return useSyncExternalStore(subscribe, isNarrow, () => false)
}

function subscribe(onChange: () => void): () => void {
  const query = window.matchMedia(NARROW_QUERY)
  query.addEventListener('change', onChange)
  return () => query.removeEventListener('change', onChange)
}

function isNarrow(): boolean {
  return window.matchMedia(NARROW_QUERY).matches
}
