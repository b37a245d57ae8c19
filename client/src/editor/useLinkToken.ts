import { useEffect, useState } from 'react'
import { tokenFor } from '../links.ts'
import { tokenFromSearch, type LinkMode } from '../route.ts'
import type { KeyValueStore } from '../storage.ts'
import { linkSearch } from './linkSearch.ts'

/**
 * The token this page opens the document with: the link's `?k=`, else the one this browser
 * remembers (a bare `/d/<id>`), else null. The address bar is then rewritten to the working link,
 * without `?name=`: the token stays in the URL so a reload or a bookmark works even where storage
 * is blocked, and so the address bar is always a link that opens this page (the share dialog is
 * still the way to hand out links).
 */
export function useLinkToken(
  store: KeyValueStore,
  docId: string,
  mode: LinkMode,
): [token: string | null, setToken: (token: string) => void] {
  const [token, setToken] = useState(
    () => tokenFromSearch(window.location.search) ?? tokenFor(store, docId, mode),
  )

  useEffect(() => {
    if (token === null) return
    const { pathname, search, hash } = window.location
    const next = linkSearch(search, token)
    if (next !== search) window.history.replaceState(window.history.state, '', `${pathname}${next}${hash}`)
  }, [token])

  return [token, setToken]
}
