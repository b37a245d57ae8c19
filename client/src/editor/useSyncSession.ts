import { CLOSE_REASONS } from '@tandem/shared'
import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import { deleteLocalReplica, openLocalReplica, type LocalReplica } from '../offline/localReplica.ts'
import type { LinkMode } from '../route.ts'
import { SyncProvider, type TransportName } from '../sync/index.ts'
import { guardPresence } from './presenceGuard.ts'

export interface SyncSession {
  readonly docId: string
  readonly doc: Y.Doc
  readonly provider: SyncProvider
  /** The link token this provider connects with. */
  readonly token: string
  /**
   * Whether this browser keeps the document's edits (IndexedDB behind the journal), so closing
   * the tab loses none.
   */
  readonly isKeptLocally: boolean
}

export interface SessionAccess {
  readonly docId: string
  readonly token: string
  readonly mode: LinkMode
  /** What editors see in "N viewing" (view mode only); '' stays anonymous. */
  readonly viewerName?: string
  /** `?transport=`: exactly this transport, no fallback; null chooses automatically (R26). */
  readonly transport?: TransportName | null
  /** Edit mode: this browser's writer key for the document (offline/writerKey.ts, SPEC R33). */
  readonly writerKey?: string
}

/** The page's Y.Doc, loaded from this browser's copy first (edit links only). */
interface LocalDoc {
  readonly doc: Y.Doc
  readonly replica: LocalReplica | null
}

/**
 * One Y.Doc per mounted document, and one SyncProvider per link token. Created in effects, not
 * during render, so StrictMode's mount–unmount–mount destroys the first pair instead of leaking
 * its connection. A new token (after "Reset links") replaces only the provider: the Y.Doc, and
 * with it the text on screen and any edit not yet sent, carries over to the new connection.
 *
 * On an edit link the Y.Doc first loads what this browser kept (SPEC R38: IndexedDB, then the
 * other pages' journals): the provider is created only then, so its first resync carries
 * edits typed offline in an earlier page load. A view link keeps nothing: no IndexedDB, no journal,
 * no tab channel.
 */
export function useSyncSession({
  docId,
  token,
  mode,
  viewerName = '',
  transport = null,
  writerKey,
}: SessionAccess): SyncSession | null {
  const [local, setLocal] = useState<LocalDoc | null>(null)
  const [session, setSession] = useState<SyncSession | null>(null)

  useEffect(() => {
    if (local === null) return undefined
    const { doc, replica } = local
    const provider = new SyncProvider({
      doc,
      docId,
      token,
      mode,
      viewerName,
      transport: transport ?? undefined,
      writerKey,
      replicaOrigins: replica?.origins,
    })
    // Before the editor mounts its caret plugin: other clients' presence is repaired first.
    const stopGuarding = guardPresence(provider.awareness)
    // What the server sends is durable there: not journaled, only kept in IndexedDB.
    const stopSkipping = replica?.skipOrigin(provider)
    const stopWatching = provider.onStatus(({ connection }) => {
      // The document is gone for good: what this browser kept of it is of no use to anyone.
      if (connection.kind === 'refused' && connection.reason.code === CLOSE_REASONS.docNotFound.code)
        void (replica?.forget() ?? deleteLocalReplica(docId))
    })
    setSession({ docId, doc, provider, token, isKeptLocally: replica?.isKeepingEdits ?? false })
    return () => {
      stopWatching()
      stopGuarding()
      provider.destroy()
      stopSkipping?.()
    }
  }, [local, docId, token, mode, viewerName, transport, writerKey])

  // Declared after the provider's effect so that React's cleanups, which run in declaration order,
  // destroy the provider before its document.
  useEffect(() => {
    const doc = new Y.Doc()
    if (mode === 'view') {
      setLocal({ doc, replica: null })
      return () => doc.destroy()
    }
    let isMounted = true
    let replica: LocalReplica | null = null
    void openLocalReplica(doc, docId).then((opened) => {
      if (!isMounted) return opened.destroy()
      replica = opened
      setLocal({ doc, replica })
    })
    return () => {
      isMounted = false
      replica?.destroy()
      doc.destroy()
    }
  }, [docId, mode])

  return session !== null && session.doc === local?.doc ? session : null
}
