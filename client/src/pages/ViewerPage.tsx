import { useEffect, useMemo, useState } from 'react'
import { CollaborativeEditor } from '../editor/CollaborativeEditor.tsx'
import { resolveIdentity, saveIdentity, type Identity } from '../editor/identity.ts'
import { NameDialog } from '../editor/NameDialog.tsx'
import { PresenceList } from '../editor/PresenceList.tsx'
import { RefusalBanner } from '../editor/RefusalBanner.tsx'
import { StatusBadge } from '../editor/StatusBadge.tsx'
import { useLinkToken } from '../editor/useLinkToken.ts'
import { useProviderStatus } from '../editor/useProviderStatus.ts'
import { useRememberedDoc } from '../editor/useRememberedDoc.ts'
import { useSyncSession, type SyncSession } from '../editor/useSyncSession.ts'
import { ViewerCount } from '../editor/ViewerCount.tsx'
import { wayOutOf } from '../editor/wayOut.ts'
import { tokenFor } from '../links.ts'
import { transportFromSearch } from '../route.ts'
import { browserStore, type KeyValueStore } from '../storage.ts'
import type { TransportName } from '../sync/index.ts'
import { MissingLink } from './MissingLink.tsx'

/** Who is watching: a name is asked for like on the editor page, but viewers may skip it. */
type Viewer =
  | { readonly kind: 'asking' }
  | { readonly kind: 'named'; readonly identity: Identity }
  | { readonly kind: 'anonymous' }

/**
 * Stands in for the viewer in their own editor's caret extension. It never leaves this tab: a
 * view-mode provider sends nothing, and editors learn of viewers from the server (SPEC R21).
 */
const ANONYMOUS_IDENTITY: Identity = { name: 'Anonymous', color: '#6b7280' }

/** `/v/<docId>?k=<viewToken>[&transport=…]`: the document live, read-only (SPEC R20). */
export function ViewerPage({ docId }: { docId: string }) {
  const store = useMemo(browserStore, [])
  const [token] = useLinkToken(store, docId, 'view')
  const [transport] = useState(() => transportFromSearch(window.location.search))
  const [viewer, setViewer] = useState<Viewer>(() => {
    const identity = resolveIdentity(window.location.search, store)
    return identity === null ? { kind: 'asking' } : { kind: 'named', identity }
  })

  useEffect(() => {
    document.title = `${docId} (view) · Tandem`
  }, [docId])

  if (token === null) return <MissingLink mode="view" />
  switch (viewer.kind) {
    case 'asking':
      return (
        <NameDialog
          onSubmit={(name) => setViewer({ kind: 'named', identity: saveIdentity(store, name) })}
          onSkip={() => setViewer({ kind: 'anonymous' })}
        />
      )
    case 'named':
      return (
        <ViewerDocument
          docId={docId}
          token={token}
          transport={transport}
          store={store}
          identity={viewer.identity}
        />
      )
    case 'anonymous':
      return (
        <ViewerDocument docId={docId} token={token} transport={transport} store={store} identity={null} />
      )
  }
}

interface Props {
  readonly docId: string
  readonly token: string
  /** `?transport=`: the one transport to use; null chooses automatically (R26). */
  readonly transport: TransportName | null
  readonly store: KeyValueStore
  /** null: anonymous. */
  readonly identity: Identity | null
}

function ViewerDocument(props: Props) {
  const session = useSyncSession({
    docId: props.docId,
    token: props.token,
    mode: 'view',
    viewerName: props.identity?.name ?? '',
    transport: props.transport,
  })
  if (session === null) return <div className="editor-page" aria-busy="true" />
  return <LiveView {...props} session={session} />
}

function LiveView({ docId, token, store, identity, session }: Props & { readonly session: SyncSession }) {
  const status = useProviderStatus(session.provider)
  useRememberedDoc(store, session, { mode: 'view', token, isSynced: status.isSynced })
  const refusal = status.connection.kind === 'refused' ? status.connection.reason : null

  return (
    <div className="editor-page viewer-page" data-refused={refusal !== null}>
      <header className="editor-header">
        <a className="brand" href="/">
          Tandem
        </a>
        <span className="doc-id" title="Document id">
          {docId}
        </span>
        <span className="header-spacer" />
        <PresenceList awareness={session.provider.awareness} isSelfListed={false} />
        <ViewerCount awareness={session.provider.awareness} />
        <StatusBadge status={status} isReadOnly />
      </header>
      {refusal !== null && (
        <RefusalBanner
          reason={refusal}
          mode="view"
          wayOut={wayOutOf(refusal, {
            mode: 'view',
            docId,
            token,
            storedToken: tokenFor(store, docId, 'view'),
          })}
        />
      )}
      <main className="editor-surface">
        <CollaborativeEditor session={session} identity={identity ?? ANONYMOUS_IDENTITY} isEditable={false} />
      </main>
    </div>
  )
}
