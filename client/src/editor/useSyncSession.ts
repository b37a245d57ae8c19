import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import type { LinkMode } from '../route.ts'
import { SyncProvider, type TransportName } from '../sync/index.ts'

export interface SyncSession {
  readonly docId: string
  readonly doc: Y.Doc
  readonly provider: SyncProvider
  /** The link token this provider connects with. */
  readonly token: string
}

export interface SessionAccess {
  readonly docId: string
  readonly token: string
  readonly mode: LinkMode
  /** What editors see in "N viewing" (view mode only); '' stays anonymous. */
  readonly viewerName?: string
  /** `?transport=`: exactly this transport, no fallback; null chooses automatically (R26). */
  readonly transport?: TransportName | null
}

/**
 * One Y.Doc per mounted document, and one SyncProvider per link token. Created in effects, not
 * during render, so StrictMode's mount–unmount–mount destroys the first pair instead of leaking
 * its connection. A new token (after "Reset links") replaces only the provider: the Y.Doc, and
 * with it the text on screen and any edit not yet sent, carries over to the new connection.
 */
export function useSyncSession({
  docId,
  token,
  mode,
  viewerName = '',
  transport = null,
}: SessionAccess): SyncSession | null {
  const [doc, setDoc] = useState<Y.Doc | null>(null)
  const [session, setSession] = useState<SyncSession | null>(null)

  useEffect(() => {
    if (doc === null) return undefined
    const provider = new SyncProvider({
      doc,
      docId,
      token,
      mode,
      viewerName,
      transport: transport ?? undefined,
    })
    setSession({ docId, doc, provider, token })
    return () => provider.destroy()
  }, [doc, docId, token, mode, viewerName, transport])

  // Declared after the provider's effect so that React's cleanups, which run in declaration order,
  // destroy the provider before its document.
  useEffect(() => {
    const next = new Y.Doc()
    setDoc(next)
    return () => next.destroy()
  }, [docId])

  return session !== null && session.doc === doc ? session : null
}
