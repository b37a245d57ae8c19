import { useMemo, useState } from 'react'
import { DocumentView } from '../editor/DocumentView.tsx'
import { editorIdentity, saveIdentity } from '../editor/identity.ts'
import { useLinkToken } from '../editor/useLinkToken.ts'
import { transportFromSearch } from '../route.ts'
import { browserStore } from '../storage.ts'
import { MissingLink } from './MissingLink.tsx'

/** `/d/<docId>?k=<editToken>[&transport=…]`: the document, open for editing at once. */
export function EditorPage({ docId }: { docId: string }) {
  const store = useMemo(browserStore, [])
  // The document opens at once: with no name chosen yet, under a generated one, changed any time
  // from your own presence entry.
  const [identity, setIdentity] = useState(() => editorIdentity(window.location.search, store))
  const [token, setToken] = useLinkToken(store, docId, 'edit')
  const [transport] = useState(() => transportFromSearch(window.location.search))
  // The tab names the document by its title once it is open (DocumentView, R60).

  if (token === null) return <MissingLink mode="edit" />
  return (
    <DocumentView
      docId={docId}
      identity={identity}
      token={token}
      transport={transport}
      store={store}
      onTokenChange={setToken}
      onRename={(name) => setIdentity(saveIdentity(store, name))}
    />
  )
}
