import { useMemo, useState } from 'react'
import { CollaborativeEditor } from '../editor/CollaborativeEditor.tsx'
import { DocumentMenu } from '../editor/DocumentMenu.tsx'
import { editorIdentity, saveIdentity, type Identity } from '../editor/identity.ts'
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
import { useDocumentTitle, useTabTitle } from '../editor/title.ts'
import { TitleText } from '../editor/TitleField.tsx'
import { tokenFor } from '../links.ts'
import { transportFromSearch } from '../route.ts'
import { browserStore, type KeyValueStore } from '../storage.ts'
import type { TransportName } from '../sync/index.ts'
import { ThemeToggle } from '../ui/ThemeToggle.tsx'
import { MissingLink } from './MissingLink.tsx'

/** `/v/<docId>?k=<viewToken>[&transport=…]`: the document live, read-only (SPEC R20). */
export function ViewerPage({ docId }: { docId: string }) {
  const store = useMemo(browserStore, [])
  const [token] = useLinkToken(store, docId, 'view')
  const [transport] = useState(() => transportFromSearch(window.location.search))
  // Like an edit link (R58), a view link opens at once: under the name this device uses, else a
  // generated one. Editors learn it from the server (R21); "Change name" reconnects under the new one.
  const [identity, setIdentity] = useState(() => editorIdentity(window.location.search, store))
  // The tab names the document by its title once it is open (LiveView, R60).

  if (token === null) return <MissingLink mode="view" />
  return (
    <ViewerDocument
      docId={docId}
      token={token}
      transport={transport}
      store={store}
      identity={identity}
      onRename={(name) => setIdentity(saveIdentity(store, name))}
    />
  )
}

interface Props {
  readonly docId: string
  readonly token: string
  /** `?transport=`: the one transport to use; null chooses automatically (R26). */
  readonly transport: TransportName | null
  readonly store: KeyValueStore
  /** The name editors see for this viewer (R21); its colour marks the viewer's own chip. */
  readonly identity: Identity
  readonly onRename: (name: string) => void
}

function ViewerDocument(props: Props) {
  const session = useSyncSession({
    docId: props.docId,
    token: props.token,
    mode: 'view',
    viewerName: props.identity.name,
    transport: props.transport,
  })
  if (session === null) return <div className="editor-page" aria-busy="true" />
  return <LiveView {...props} session={session} />
}

function LiveView({
  docId,
  token,
  store,
  identity,
  onRename,
  session,
}: Props & { readonly session: SyncSession }) {
  const status = useProviderStatus(session.provider)
  const [isRenaming, setIsRenaming] = useState(false)
  useRememberedDoc(store, session, { mode: 'view', token, isSynced: status.isSynced })
  const refusal = status.connection.kind === 'refused' ? status.connection.reason : null
  const title = useDocumentTitle(session.doc)
  useTabTitle(title)

  return (
    <div className="editor-page viewer-page" data-refused={refusal !== null}>
      <header className="editor-header">
        <a className="brand" href="/">
          Tandem
        </a>
        <TitleText doc={session.doc} />
        <DocumentMenu docId={docId} token={token} title={title} />
        <span className="header-spacer" />
        <PresenceList
          awareness={session.provider.awareness}
          isSelfListed={false}
          viewerSelf={identity}
          onRenameSelf={() => setIsRenaming(true)}
        />
        <ViewerCount awareness={session.provider.awareness} />
        <StatusBadge status={status} isReadOnly />
        <ThemeToggle />
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
        <CollaborativeEditor session={session} identity={identity} isEditable={false} />
      </main>
      {isRenaming && (
        <NameDialog
          current={identity.name}
          audience="viewer"
          onCancel={() => setIsRenaming(false)}
          onSubmit={(name) => {
            setIsRenaming(false)
            onRename(name)
          }}
        />
      )}
    </div>
  )
}
