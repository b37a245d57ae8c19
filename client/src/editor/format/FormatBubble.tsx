import type { Editor } from '@tiptap/core'
import { NodeSelection } from '@tiptap/pm/state'
import { BubbleMenu } from '@tiptap/react/menus'
import { LinkIcon } from './icons.tsx'
import { tooltip } from './shortcuts.ts'
import { ToolbarFrame, useFormatState } from './Toolbar.tsx'

interface Props {
  readonly editor: Editor
  readonly onLink: () => void
}

/**
 * The bubble menu over a selection of text (SPEC R59): the marks and the link, where the eye
 * already is. Not over an empty selection, a selected node (an image) or code, where marks do not
 * apply.
 */
export function FormatBubble({ editor, onLink }: Props) {
  const state = useFormatState(editor)
  const chain = () => editor.chain().focus()
  return (
    <BubbleMenu
      editor={editor}
      className="format-bubble-anchor"
      options={{ placement: 'top', offset: 8 }}
      shouldShow={({ editor: current, state: editorState, from, to }) =>
        current.isEditable &&
        from !== to &&
        !(editorState.selection instanceof NodeSelection) &&
        !current.isActive('codeBlock') &&
        editorState.doc.textBetween(from, to, ' ').trim() !== ''
      }
    >
      <ToolbarFrame
        label="Selected text"
        className="format-bubble"
        groups={[
          [
            {
              id: 'bold',
              label: 'Bold',
              title: tooltip('bold'),
              content: <b>B</b>,
              isPressed: state.bold,
              run: () => chain().toggleBold().run(),
            },
            {
              id: 'italic',
              label: 'Italic',
              title: tooltip('italic'),
              content: <i>I</i>,
              isPressed: state.italic,
              run: () => chain().toggleItalic().run(),
            },
            {
              id: 'strike',
              label: 'Strikethrough',
              title: tooltip('strike'),
              content: <s>S</s>,
              isPressed: state.strike,
              run: () => chain().toggleStrike().run(),
            },
            {
              id: 'code',
              label: 'Inline code',
              title: tooltip('code'),
              content: <code>{'</>'}</code>,
              isPressed: state.code,
              run: () => chain().toggleCode().run(),
            },
            {
              id: 'link',
              label: 'Link',
              title: tooltip('link'),
              content: <LinkIcon />,
              isPressed: state.link,
              run: onLink,
            },
          ],
        ]}
      />
    </BubbleMenu>
  )
}
