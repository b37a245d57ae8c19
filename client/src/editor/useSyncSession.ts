import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import { SyncProvider } from '../sync/index.ts'

export interface SyncSession {
  readonly doc: Y.Doc
  readonly provider: SyncProvider
}

/**
 * One Y.Doc and its SyncProvider per mounted document. Created in an effect, not during render,
 * so StrictMode's mount–unmount–mount destroys the first pair instead of leaking its socket.
 */
export function useSyncSession(docId: string): SyncSession | null {
  const [session, setSession] = useState<SyncSession | null>(null)
  useEffect(() => {
    const doc = new Y.Doc()
    const provider = new SyncProvider({ doc, docId })
    setSession({ doc, provider })
    return () => {
      provider.destroy()
      doc.destroy()
    }
  }, [docId])
  return session
}
