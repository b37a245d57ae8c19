import { DOC_FRAGMENT } from '@tandem/shared'
import { Collaboration } from '@tiptap/extension-collaboration'
import { CollaborationCaret } from '@tiptap/extension-collaboration-caret'
import { EditorContent, useEditor } from '@tiptap/react'
import { StarterKit } from '@tiptap/starter-kit'
import { useEffect } from 'react'
import type { Identity } from './identity.ts'
import type { SyncSession } from './useSyncSession.ts'

interface Props {
  readonly session: SyncSession
  readonly identity: Identity
  readonly isEditable: boolean
}

export function CollaborativeEditor({ session, identity, isEditable }: Props) {
  const editor = useEditor(
    {
      extensions: [
        // Collaboration brings a Yjs-aware undo; StarterKit's own history would undo others' edits.
        StarterKit.configure({ undoRedo: false }),
        Collaboration.configure({ document: session.doc, field: DOC_FRAGMENT }),
        CollaborationCaret.configure({
          provider: session.provider,
          user: { name: identity.name, color: identity.color },
        }),
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

  return <EditorContent editor={editor} className="editor-content" />
}
