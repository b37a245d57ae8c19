import { useCallback, useMemo, useState } from 'react'
import { resetLinks, type DocumentLinks } from '../api.ts'
import { forgetDoc, noteDeleted, rememberDoc, tokenFor } from '../links.ts'
import { writerKeyFor } from '../offline/writerKey.ts'
import type { KeyValueStore } from '../storage.ts'
import type { TransportName } from '../sync/index.ts'
import { ThemeToggle } from '../ui/ThemeToggle.tsx'
import { CollaborativeEditor } from './CollaborativeEditor.tsx'
import { HistoryButton } from './history/HistoryButton.tsx'
import { HistoryPanel } from './history/HistoryPanel.tsx'
import { distinctColor, type Identity } from './identity.ts'
import { NameDialog } from './NameDialog.tsx'
import { readPresence } from './presence.ts'
import { PresenceList } from './PresenceList.tsx'
import { useAwareness } from './useAwareness.ts'
import { RefusalBanner } from './RefusalBanner.tsx'
import { ShareDialog } from './ShareDialog.tsx'
import { StatusBadge } from './StatusBadge.tsx'
import { useProviderStatus } from './useProviderStatus.ts'
import { useRememberedDoc } from './useRememberedDoc.ts'
import { useSyncSession, type SyncSession } from './useSyncSession.ts'
import { useUnsavedGuard } from './useUnsavedGuard.ts'
import { ViewerCount } from './ViewerCount.tsx'
import { wayOutOf } from './wayOut.ts'
import { DocumentMenu } from './DocumentMenu.tsx'
import { useDocumentTitle, useTabTitle } from './title.ts'
import { TitleField } from './TitleField.tsx'

interface Props {
  readonly docId: string
  readonly identity: Identity
  /** The edit token this page connects with. */
  readonly token: string
  /** `?transport=`: the one transport to use; null chooses automatically (R26). */
  readonly transport: TransportName | null
  readonly store: KeyValueStore
  /** After "Reset links": the page continues on the new edit token. */
  readonly onTokenChange: (token: string) => void
  /** A new name chosen from your own presence entry (normalized). */
  readonly onRename: (name: string) => void
}

/** A document open for editing: header (share, presence, viewers, status) over the live editor. */
export function DocumentView(props: Props) {
  const writerKey = useMemo(() => writerKeyFor(props.store, props.docId), [props.store, props.docId])
  const session = useSyncSession({
    docId: props.docId,
    token: props.token,
    mode: 'edit',
    transport: props.transport,
    writerKey,
  })
  if (session === null) return <div className="editor-page" aria-busy="true" />
  return <LiveDocument {...props} session={session} />
}

function LiveDocument({
  docId,
  identity,
  token,
  store,
  onTokenChange,
  onRename,
  session,
}: Props & { readonly session: SyncSession }) {
  const status = useProviderStatus(session.provider)
  const [isSharing, setIsSharing] = useState(false)
  const [isHistoryOpen, setIsHistoryOpen] = useState(false)
  const [isRenaming, setIsRenaming] = useState(false)
  const roomIdentity = useRoomIdentity(session, identity)
  const [isResetting, setIsResetting] = useState(false)
  // Edits this browser keeps (IndexedDB) are not lost with the tab: the next page load sends them.
  useUnsavedGuard(status.save !== 'saved' && !session.isKeptLocally)
  useRememberedDoc(store, session, { mode: 'edit', token: session.token, isSynced: status.isSynced })

  // Our own reset closes our connection (4403) before or after its reply arrives; that refusal is
  // expected and the new session replaces it, so it is not shown.
  const isOwnReset = isResetting || session.token !== token
  const refusal = status.connection.kind === 'refused' && !isOwnReset ? status.connection.reason : null
  // `?transport=sse` on an edit link: the event stream only receives, so typing would change this
  // tab alone and never be saved. The page watches instead, like a view link.
  const isReceiveOnly = status.transport === 'sse'
  const title = useDocumentTitle(session.doc)
  useTabTitle(title)

  const onLinksLoaded = useCallback(
    (links: DocumentLinks) =>
      void rememberDoc(store, docId, { editToken: links.editToken, viewToken: links.viewToken }),
    [store, docId],
  )

  const resetAndReconnect = async (): Promise<DocumentLinks> => {
    setIsResetting(true)
    try {
      const links = await resetLinks(docId, token)
      rememberDoc(store, docId, { editToken: links.editToken, viewToken: links.viewToken })
      onTokenChange(links.editToken)
      return links
    } finally {
      setIsResetting(false)
    }
  }

  return (
    <div className="editor-page">
      <header className="editor-header">
        <a className="brand" href="/">
          Tandem
        </a>
        <TitleField doc={session.doc} isEditable={refusal === null && !isReceiveOnly} />
        <button
          type="button"
          className="button button-small"
          data-testid="share-button"
          aria-haspopup="dialog"
          onClick={() => setIsSharing(true)}
        >
          Share
        </button>
        <DocumentMenu
          docId={docId}
          token={session.token}
          title={title}
          edit={{
            onResetLinks: () => setIsSharing(true),
            onLinksLoaded,
            onDeleted: () => {
              // Gone for everyone: off this browser's list too, and back to it (R61).
              forgetDoc(store, docId)
              noteDeleted(store, title)
              window.location.assign('/')
            },
          }}
        />
        {/* slot:document-actions (R61, R62) */}
        <HistoryButton isOpen={isHistoryOpen} onToggle={() => setIsHistoryOpen((isOpen) => !isOpen)} />
        <span className="header-spacer" />
        <PresenceList awareness={session.provider.awareness} onRenameSelf={() => setIsRenaming(true)} />
        <ViewerCount awareness={session.provider.awareness} />
        <StatusBadge status={status} isReadOnly={isReceiveOnly} />
        <ThemeToggle />
      </header>
      {refusal !== null && (
        <RefusalBanner
          reason={refusal}
          mode="edit"
          wayOut={wayOutOf(refusal, {
            mode: 'edit',
            docId,
            token,
            storedToken: tokenFor(store, docId, 'edit'),
          })}
        />
      )}
      <main className="editor-surface">
        <CollaborativeEditor
          session={session}
          identity={roomIdentity}
          isEditable={refusal === null && !isReceiveOnly}
        />
        {isHistoryOpen && (
          <HistoryPanel
            docId={docId}
            token={session.token}
            canEdit={refusal === null && !isReceiveOnly}
            onClose={() => setIsHistoryOpen(false)}
          />
        )}
      </main>
      {isRenaming && (
        <NameDialog
          current={identity.name}
          audience="editor"
          onCancel={() => setIsRenaming(false)}
          onSubmit={(name) => {
            onRename(name)
            setIsRenaming(false)
          }}
        />
      )}
      {isSharing && (
        <ShareDialog
          docId={docId}
          token={token}
          save={status.save}
          onLoaded={onLinksLoaded}
          onReset={resetAndReconnect}
          onClose={() => setIsSharing(false)}
        />
      )}
    </div>
  )
}

/** Your identity in this room: your colour, or another one if someone here shows it (R58). */
function useRoomIdentity(session: SyncSession, identity: Identity): Identity {
  const { awareness } = session.provider
  const users = useAwareness(awareness, readPresence)
  const others = users.filter((user) => !user.isSelf)
  const color = distinctColor(identity.color, awareness.clientID, others)
  return useMemo(() => ({ ...identity, color }), [identity, color])
}
