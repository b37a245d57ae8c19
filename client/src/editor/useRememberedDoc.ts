import { useEffect } from 'react'
import { rememberDoc } from '../links.ts'
import type { LinkMode } from '../route.ts'
import type { KeyValueStore } from '../storage.ts'
import { listingOf } from './documentTitle.ts'
import type { SyncSession } from './useSyncSession.ts'

/**
 * Lists the document on this browser's home page, with its title and first line, once the server
 * has accepted `token` (the first sync). Not before: a stale or mistyped link must not replace a
 * token that works.
 */
export function useRememberedDoc(
  store: KeyValueStore,
  session: SyncSession,
  { mode, token, isSynced }: { mode: LinkMode; token: string; isSynced: boolean },
): void {
  const { doc, docId } = session
  useEffect(() => {
    if (!isSynced) return undefined
    const tokenUpdate = mode === 'edit' ? { editToken: token } : { viewToken: token }
    let listing = listingOf(doc)
    rememberDoc(store, docId, { ...tokenUpdate, ...listing })
    // Every keystroke is an update; storage is written only when the title or first line changes.
    const onUpdate = (): void => {
      const next = listingOf(doc)
      if (next.title === listing.title && next.preview === listing.preview) return
      listing = next
      rememberDoc(store, docId, { ...listing })
    }
    doc.on('update', onUpdate)
    return () => doc.off('update', onUpdate)
  }, [store, doc, docId, mode, token, isSynced])
}
