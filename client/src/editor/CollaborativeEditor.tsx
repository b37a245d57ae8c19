import { DOC_FRAGMENT } from '@tandem/shared'
import { Collaboration } from '@tiptap/extension-collaboration'
import { CollaborationCaret } from '@tiptap/extension-collaboration-caret'
import { Placeholder } from '@tiptap/extensions'
import { EditorContent, useEditor } from '@tiptap/react'
import { useEffect, useState } from 'react'
import { FormatBubble } from './format/FormatBubble.tsx'
import { FormatShortcuts } from './format/formatShortcuts.ts'
import { ImageDialog } from './format/ImageDialog.tsx'
import { LinkEditor } from './format/LinkEditor.tsx'
import { ShortcutSheet } from './format/ShortcutSheet.tsx'
import { TableMenu } from './format/TableMenu.tsx'
import { Toolbar } from './format/Toolbar.tsx'
import './format/format.css'
import type { Identity } from './identity.ts'
import { documentExtensions } from './schema.ts'
import type { SyncSession } from './useSyncSession.ts'

interface Props {
  readonly session: SyncSession
  readonly identity: Identity
  readonly isEditable: boolean
}

type FormatDialog = 'link' | 'image' | 'shortcuts'

/**
 * The document's text, and for editors its formatting (SPEC R59): the toolbar above it, the bubble
 * menu over a selection, the table menu under a table, the link and image dialogs and the
 * shortcut sheet. A viewer (isEditable false) gets the text alone.
 */
export function CollaborativeEditor({ session, identity, isEditable }: Props) {
  const [dialog, setDialog] = useState<FormatDialog | null>(null)
  const stickyTopPx = useHeaderHeight()
  const editor = useEditor(
    {
      extensions: [
        // The schema the server's exports render with too (schema.ts).
        ...documentExtensions(),
        Collaboration.configure({ document: session.doc, field: DOC_FRAGMENT }),
        CollaborationCaret.configure({
          provider: session.provider,
          user: { name: identity.name, color: identity.color },
        }),
        // Shown only while editable (the extension's default): a viewer sees no prompt to write.
        Placeholder.configure({ placeholder: 'Start writing…' }),
        FormatShortcuts.configure({ onLink: () => setDialog('link') }),
      ],
      // Set at creation too, so a viewer's editor is never editable, not even for one frame.
      editable: isEditable,
      editorProps: {
        attributes: { 'aria-label': 'Document text', 'aria-multiline': 'true', role: 'textbox' },
      },
    },
    // Not `identity`: a new name updates the caret (below) without a new editor and its history.
    [session],
  )

  useEffect(() => {
    editor.setEditable(isEditable)
  }, [editor, isEditable])

  useEffect(() => {
    editor.commands.updateUser({ name: identity.name, color: identity.color })
  }, [editor, identity])

  // The caret goes into the text once there is a document to write in: the local copy loaded
  // (the session exists only then, R38) or, without one, the first sync. Not if the person has
  // already put focus somewhere else (the title, a dialog) in the meantime.
  useEffect(() => {
    if (!isEditable) return undefined
    let isCurrent = true
    const ready = session.isKeptLocally ? Promise.resolve() : session.provider.whenSynced()
    void ready.then(() => {
      const active = document.activeElement
      if (!isCurrent || editor.isDestroyed || (active !== null && active !== document.body)) return
      editor.commands.focus('start', { scrollIntoView: false })
    })
    return () => {
      isCurrent = false
    }
  }, [editor, session, isEditable])

  // Ctrl/⌘+/ from anywhere on the page (the text, the toolbar), unless a dialog is already open.
  useEffect(() => {
    if (!isEditable) return undefined
    const onKeyDown = (event: KeyboardEvent): void => {
      if (!(event.ctrlKey || event.metaKey) || event.key !== '/' || event.altKey) return
      if (document.querySelector('dialog[open], [aria-modal="true"]') !== null) return
      event.preventDefault()
      setDialog('shortcuts')
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
  }, [isEditable])

  const close = (): void => setDialog(null)
  return (
    <div className="format-editor">
      {isEditable && (
        <>
          <Toolbar
            editor={editor}
            stickyTopPx={stickyTopPx}
            onLink={() => setDialog('link')}
            onImage={() => setDialog('image')}
            onShortcuts={() => setDialog('shortcuts')}
          />
          <FormatBubble editor={editor} onLink={() => setDialog('link')} />
          <TableMenu editor={editor} />
        </>
      )}
      <EditorContent editor={editor} className="editor-content" />
      {isEditable && dialog === 'link' && <LinkEditor editor={editor} onClose={close} />}
      {isEditable && dialog === 'image' && <ImageDialog editor={editor} onClose={close} />}
      {isEditable && dialog === 'shortcuts' && <ShortcutSheet onClose={close} />}
    </div>
  )
}

/**
 * The page header's height while it sticks to the top (DocumentView's `.editor-header`): the
 * toolbar sticks right below it rather than under it. Followed as the header wraps or grows.
 */
function useHeaderHeight(): number {
  const [heightPx, setHeightPx] = useState(0)
  useEffect(() => {
    const header = document.querySelector<HTMLElement>('.editor-header')
    if (header === null) return undefined
    const measure = (): void =>
      setHeightPx(getComputedStyle(header).position === 'sticky' ? header.offsetHeight : 0)
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(header)
    return () => observer.disconnect()
  }, [])
  return heightPx
}
