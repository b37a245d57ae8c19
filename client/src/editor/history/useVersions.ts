import { useCallback, useEffect, useRef, useState } from 'react'
import { listVersions, type VersionInfo } from '../../api.ts'

/** How often an open history panel asks for new versions (others save and restore too). */
const REFRESH_MS = 15_000

export type VersionsState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly versions: readonly VersionInfo[] }
  /** `versions`: the last list that loaded, kept on screen while the server cannot be asked. */
  | { readonly kind: 'error'; readonly message: string; readonly versions: readonly VersionInfo[] | null }

/** The document's versions while the panel is open, refreshed periodically and on demand. */
export function useVersions(docId: string, token: string): { state: VersionsState; refresh: () => void } {
  const [state, setState] = useState<VersionsState>({ kind: 'loading' })
  const generation = useRef(0)

  const refresh = useCallback(() => {
    const current = ++generation.current
    listVersions(docId, token).then(
      (versions) => {
        if (current === generation.current) setState({ kind: 'ready', versions })
      },
      (error: unknown) => {
        if (current !== generation.current) return
        const message = error instanceof Error ? error.message : 'the history could not be loaded'
        setState((previous) => ({
          kind: 'error',
          message,
          versions: previous.kind === 'loading' ? null : previous.versions,
        }))
      },
    )
  }, [docId, token])

  useEffect(() => {
    refresh()
    const timer = setInterval(refresh, REFRESH_MS)
    return () => {
      clearInterval(timer)
      // Answers to requests of a closed panel are dropped.
      generation.current += 1
    }
  }, [refresh])

  return { state, refresh }
}
