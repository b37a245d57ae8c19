import type { Editor } from '@tiptap/core'
import { BubbleMenu } from '@tiptap/react/menus'
import { ToolbarFrame, type ButtonSpec } from './Toolbar.tsx'

interface Props {
  readonly editor: Editor
}

/**
 * Rows and columns of the table the caret is in (SPEC R59), in a menu under that table. Not in
 * the toolbar: a group that came and went there as the caret entered and left a table would
 * change the toolbar's height and move the text under the pointer.
 */
export function TableMenu({ editor }: Props) {
  const chain = () => editor.chain().focus()
  const text = (id: string, label: string, short: string, run: () => void): ButtonSpec => ({
    id,
    label,
    title: label,
    content: <span className="format-glyph format-glyph-text">{short}</span>,
    run,
  })
  return (
    <BubbleMenu
      editor={editor}
      pluginKey="tandemTableMenu"
      className="format-bubble-anchor"
      options={{ placement: 'bottom-start', offset: 6, flip: false }}
      getReferencedVirtualElement={() => {
        const table = tableAtSelection(editor)
        return table === null ? null : { getBoundingClientRect: () => table.getBoundingClientRect() }
      }}
      shouldShow={({ editor: current }) => current.isEditable && current.isActive('table')}
    >
      <ToolbarFrame
        label="Table"
        className="format-bubble format-table-menu"
        groups={[
          [
            text('rowBefore', 'Add row above', '+ Row ↑', () => chain().addRowBefore().run()),
            text('rowAfter', 'Add row below', '+ Row ↓', () => chain().addRowAfter().run()),
            text('columnBefore', 'Add column left', '+ Col ←', () => chain().addColumnBefore().run()),
            text('columnAfter', 'Add column right', '+ Col →', () => chain().addColumnAfter().run()),
          ],
          [
            text('deleteRow', 'Delete row', '− Row', () => chain().deleteRow().run()),
            text('deleteColumn', 'Delete column', '− Col', () => chain().deleteColumn().run()),
            text('deleteTable', 'Delete table', 'Delete table', () => chain().deleteTable().run()),
          ],
        ]}
      />
    </BubbleMenu>
  )
}

/** The <table> element around the selection's start, if any. */
function tableAtSelection(editor: Editor): HTMLElement | null {
  const { node } = editor.view.domAtPos(editor.state.selection.from)
  const element = node instanceof HTMLElement ? node : node.parentElement
  return element?.closest('table') ?? null
}
