import { DOC_FRAGMENT } from '@tandem/shared'
import { useEffect } from 'react'
import { rememberDoc } from '../links.ts'
import type { LinkMode } from '../route.ts'
import type { KeyValueStore } from '../storage.ts'
import { documentTitle } from './documentTitle.ts'
import type { SyncSession } from './useSyncSession.ts'

/**
 * Lists the document on this browser's home page, with its first line as title, once the server
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
    const fragment = doc.getXmlFragment(DOC_FRAGMENT)
    const tokenUpdate = mode === 'edit' ? { editToken: token } : { viewToken: token }
    let title = documentTitle(fragment)
    rememberDoc(store, docId, { ...tokenUpdate, title })
    // Every keystroke is an update; storage is written only when the first line changes.
    const onUpdate = (): void => {
      const next = documentTitle(fragment)
      if (next === title) return
      title = next
      rememberDoc(store, docId, { title })
    }
    doc.on('update', onUpdate)
    return () => doc.off('update', onUpdate)
  }, [store, doc, docId, mode, token, isSynced])
}
