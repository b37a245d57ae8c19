import { useEffect, useMemo, useState } from 'react'
import { DocumentView } from '../editor/DocumentView.tsx'
import { browserStore, resolveIdentity, saveIdentity, searchWithoutName } from '../editor/identity.ts'
import { NameDialog } from '../editor/NameDialog.tsx'

/** `/d/<docId>`: asks for a display name once, then opens the document. */
export function EditorPage({ docId }: { docId: string }) {
  const store = useMemo(browserStore, [])
  const [identity, setIdentity] = useState(() => resolveIdentity(window.location.search, store))

  useEffect(() => {
    document.title = `${docId} · Tandem`
    const { pathname, search, hash } = window.location
    const cleaned = searchWithoutName(search)
    if (cleaned !== search)
      window.history.replaceState(window.history.state, '', `${pathname}${cleaned}${hash}`)
  }, [docId])

  if (identity === null) return <NameDialog onSubmit={(name) => setIdentity(saveIdentity(store, name))} />
  return <DocumentView docId={docId} identity={identity} />
}
