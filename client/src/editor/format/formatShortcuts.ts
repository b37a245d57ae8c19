import { Extension } from '@tiptap/core'
import { clearFormatting } from './Toolbar.tsx'

export interface FormatShortcutsOptions {
  /** Opens the link editor (Mod-k). */
  readonly onLink: () => void
}

/**
 * The editor's own shortcuts (SPEC R59) beside the extensions' formatting keys: Mod-k opens the
 * link editor, Mod-\ clears formatting, Alt-F10 moves to the toolbar. Only while the text is
 * editable; a viewer's keys do nothing here. (Mod-/ is the page's, so it also works from the
 * toolbar: CollaborativeEditor.)
 */
export const FormatShortcuts = Extension.create<FormatShortcutsOptions>({
  name: 'tandemFormatShortcuts',

  addOptions() {
    return { onLink: () => undefined }
  },

  addKeyboardShortcuts() {
    return {
      'Mod-k': () => {
        if (!this.editor.isEditable) return false
        this.options.onLink()
        return true
      },
      'Mod-\\': () => this.editor.isEditable && clearFormatting(this.editor),
      // As in Google Docs: from the text to the toolbar's current button. Any button, once used,
      // puts focus back in the text.
      'Alt-F10': () => {
        const button = document.querySelector<HTMLElement>('.format-toolbar button[tabindex="0"]')
        if (!this.editor.isEditable || button === null) return false
        button.focus()
        return true
      },
    }
  },
})
