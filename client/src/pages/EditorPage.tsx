import { useEffect, useMemo, useState } from 'react'
import { DocumentView } from '../editor/DocumentView.tsx'
import { resolveIdentity, saveIdentity } from '../editor/identity.ts'
import { NameDialog } from '../editor/NameDialog.tsx'
import { useLinkToken } from '../editor/useLinkToken.ts'
import { transportFromSearch } from '../route.ts'
import { browserStore } from '../storage.ts'
import { MissingLink } from './MissingLink.tsx'

/**
 * `/d/<docId>?k=<editToken>[&transport=…]`: asks for a display name once, then opens the
 * document.
 */
export function EditorPage({ docId }: { docId: string }) {
  const store = useMemo(browserStore, [])
  const [identity, setIdentity] = useState(() => resolveIdentity(window.location.search, store))
  const [token, setToken] = useLinkToken(store, docId, 'edit')
  const [transport] = useState(() => transportFromSearch(window.location.search))

  useEffect(() => {
    document.title = `${docId} · Tandem`
  }, [docId])

  if (token === null) return <MissingLink mode="edit" />
  if (identity === null) return <NameDialog onSubmit={(name) => setIdentity(saveIdentity(store, name))} />
  return (
    <DocumentView
      docId={docId}
      identity={identity}
      token={token}
      transport={transport}
      store={store}
      onTokenChange={setToken}
    />
  )
}
