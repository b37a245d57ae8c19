import { useEffect } from 'react'

/**
 * Asks before the tab closes while closing it would lose edits: not yet durable on the server
 * (SPEC R7) and not kept in this browser either (R38: IndexedDB behind the journal).
 */
export function useUnsavedGuard(wouldLoseEdits: boolean): void {
  useEffect(() => {
    if (!wouldLoseEdits) return undefined
    const onBeforeUnload = (event: BeforeUnloadEvent): void => event.preventDefault()
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [wouldLoseEdits])
}
