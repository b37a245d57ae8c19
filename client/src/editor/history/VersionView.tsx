import { DOC_FRAGMENT, DOC_TITLE } from '@tandem/shared'
import { Collaboration } from '@tiptap/extension-collaboration'
import { EditorContent, useEditor } from '@tiptap/react'
import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import { fetchVersionState, type VersionInfo } from '../../api.ts'
import { documentExtensions } from '../schema.ts'

interface Props {
  readonly docId: string
  readonly token: string
  readonly version: VersionInfo
}

type Loaded =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly doc: Y.Doc }
  | { readonly kind: 'error'; readonly message: string }

/**
 * A version read-only, drawn by the same schema as the live editor (R59), over a Y.Doc of its own
 * built from the stored state (R62): it looks exactly like the document did, and nothing in it
 * reaches the live document.
 */
export function VersionView({ docId, token, version }: Props) {
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' })

  useEffect(() => {
    let isCurrent = true
    let doc: Y.Doc | null = null
    setLoaded({ kind: 'loading' })
    fetchVersionState(docId, token, version.id).then(
      (state) => {
        if (!isCurrent) return
        doc = new Y.Doc()
        Y.applyUpdate(doc, state)
        setLoaded({ kind: 'ready', doc })
      },
      (error: unknown) => {
        if (isCurrent)
          setLoaded({ kind: 'error', message: error instanceof Error ? error.message : 'could not load' })
      },
    )
    return () => {
      isCurrent = false
      doc?.destroy()
    }
  }, [docId, token, version.id])

  switch (loaded.kind) {
    case 'loading':
      return (
        <p className="muted" role="status">
          Loading this version…
        </p>
      )
    case 'error':
      return (
        <p className="error" role="alert">
          This version could not be loaded: {loaded.message}.
        </p>
      )
    case 'ready':
      return <ReadOnlyDocument doc={loaded.doc} />
  }
}

function ReadOnlyDocument({ doc }: { readonly doc: Y.Doc }) {
  const title = doc.getText(DOC_TITLE).toString()
  const editor = useEditor(
    {
      extensions: [...documentExtensions(), Collaboration.configure({ document: doc, field: DOC_FRAGMENT })],
      editable: false,
      editorProps: {
        attributes: {
          'aria-label': 'Text of this version',
          'aria-readonly': 'true',
          'aria-multiline': 'true',
          role: 'textbox',
        },
      },
    },
    [doc],
  )
  return (
    <div className="history-version-document" data-testid="version-document">
      <p className="history-version-title">{title === '' ? 'Untitled' : title}</p>
      <EditorContent editor={editor} className="editor-content history-version-content" />
    </div>
  )
}
