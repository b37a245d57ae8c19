import { editorPath } from '../route.ts'
import { CollaborativeEditor } from './CollaborativeEditor.tsx'
import { CopyLinkButton } from './CopyLinkButton.tsx'
import type { Identity } from './identity.ts'
import { PresenceList } from './PresenceList.tsx'
import { StatusBadge } from './StatusBadge.tsx'
import { useProviderStatus } from './useProviderStatus.ts'
import { useSyncSession, type SyncSession } from './useSyncSession.ts'
import { useUnsavedGuard } from './useUnsavedGuard.ts'

interface Props {
  readonly docId: string
  readonly identity: Identity
}

/** A document open for editing: header (presence, status) over the live editor. */
export function DocumentView({ docId, identity }: Props) {
  const session = useSyncSession(docId)
  if (session === null) return <div className="editor-page" aria-busy="true" />
  return <LiveDocument docId={docId} identity={identity} session={session} />
}

function LiveDocument({ docId, identity, session }: Props & { readonly session: SyncSession }) {
  const status = useProviderStatus(session.provider)
  useUnsavedGuard(status.save !== 'saved')
  const refusal = status.connection.kind === 'refused' ? status.connection.reason : null

  return (
    <div className="editor-page">
      <header className="editor-header">
        <a className="brand" href="/">
          Tandem
        </a>
        <span className="doc-id" title="Document id">
          {docId}
        </span>
        <CopyLinkButton path={editorPath(docId)} />
        <span className="header-spacer" />
        <PresenceList awareness={session.provider.awareness} />
        <StatusBadge status={status} />
      </header>
      {refusal !== null && (
        <p className="banner" role="alert">
          This document cannot be opened: {refusal.text}. Your changes here will not be kept.
        </p>
      )}
      <main className="editor-surface">
        <CollaborativeEditor session={session} identity={identity} isEditable={refusal === null} />
      </main>
    </div>
  )
}
