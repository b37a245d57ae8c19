/**
 * Every keyboard shortcut of the editor (SPEC R59), in Tiptap's key notation (`Mod` is Ctrl on
 * Linux and Windows, ⌘ on a Mac). One list feeds the tooltips and the shortcut sheet, so what a
 * tooltip names is what the sheet lists. The formatting keys are the extensions' own (StarterKit,
 * TaskList, Collaboration's undo); Mod-k, Mod-/, Mod-\ and Alt-F10 are ours
 * (formatShortcuts.ts, CollaborativeEditor).
 */

export type ShortcutId =
  | 'bold'
  | 'italic'
  | 'underline'
  | 'strike'
  | 'code'
  | 'heading1'
  | 'heading2'
  | 'heading3'
  | 'paragraph'
  | 'bulletList'
  | 'orderedList'
  | 'taskList'
  | 'blockquote'
  | 'codeBlock'
  | 'link'
  | 'undo'
  | 'redo'
  | 'clearFormatting'
  | 'hardBreak'
  | 'indent'
  | 'outdent'
  | 'shortcuts'
  | 'toolbar'

export interface Shortcut {
  readonly id: ShortcutId
  readonly label: string
  /** Key combinations in Tiptap notation; the first is the one tooltips name. */
  readonly keys: readonly string[]
  readonly group: 'Text' | 'Paragraphs' | 'Editing'
}

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'bold', label: 'Bold', keys: ['Mod-b'], group: 'Text' },
  { id: 'italic', label: 'Italic', keys: ['Mod-i'], group: 'Text' },
  { id: 'underline', label: 'Underline', keys: ['Mod-u'], group: 'Text' },
  { id: 'strike', label: 'Strikethrough', keys: ['Mod-Shift-s'], group: 'Text' },
  { id: 'code', label: 'Inline code', keys: ['Mod-e'], group: 'Text' },
  { id: 'link', label: 'Link', keys: ['Mod-k'], group: 'Text' },
  { id: 'clearFormatting', label: 'Clear formatting', keys: ['Mod-\\'], group: 'Text' },
  { id: 'heading1', label: 'Heading 1', keys: ['Mod-Alt-1'], group: 'Paragraphs' },
  { id: 'heading2', label: 'Heading 2', keys: ['Mod-Alt-2'], group: 'Paragraphs' },
  { id: 'heading3', label: 'Heading 3', keys: ['Mod-Alt-3'], group: 'Paragraphs' },
  { id: 'paragraph', label: 'Normal text', keys: ['Mod-Alt-0'], group: 'Paragraphs' },
  { id: 'bulletList', label: 'Bulleted list', keys: ['Mod-Shift-8'], group: 'Paragraphs' },
  { id: 'orderedList', label: 'Numbered list', keys: ['Mod-Shift-7'], group: 'Paragraphs' },
  { id: 'taskList', label: 'Task list', keys: ['Mod-Shift-9'], group: 'Paragraphs' },
  { id: 'blockquote', label: 'Quote', keys: ['Mod-Shift-b'], group: 'Paragraphs' },
  { id: 'codeBlock', label: 'Code block', keys: ['Mod-Alt-c'], group: 'Paragraphs' },
  { id: 'indent', label: 'Indent list item', keys: ['Tab'], group: 'Paragraphs' },
  { id: 'outdent', label: 'Outdent list item', keys: ['Shift-Tab'], group: 'Paragraphs' },
  { id: 'undo', label: 'Undo', keys: ['Mod-z'], group: 'Editing' },
  { id: 'redo', label: 'Redo', keys: ['Mod-Shift-z', 'Mod-y'], group: 'Editing' },
  { id: 'hardBreak', label: 'Line break', keys: ['Shift-Enter'], group: 'Editing' },
  { id: 'shortcuts', label: 'Keyboard shortcuts', keys: ['Mod-/'], group: 'Editing' },
  { id: 'toolbar', label: 'Move to the toolbar', keys: ['Alt-F10'], group: 'Editing' },
]

export function shortcut(id: ShortcutId): Shortcut {
  const found = SHORTCUTS.find((each) => each.id === id)
  if (found === undefined) throw new Error(`no shortcut ${id}`)
  return found
}

/** Whether keys read as on a Mac (⌘, ⌥, ⇧) rather than Ctrl, Alt, Shift. */
export function isApplePlatform(): boolean {
  const platform =
    (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData?.platform ??
    navigator.platform
  return /mac|iphone|ipad|ipod/i.test(platform)
}

const MAC_KEYS: Readonly<Record<string, string>> = { Mod: '⌘', Alt: '⌥', Shift: '⇧', Enter: '↩' }
const OTHER_KEYS: Readonly<Record<string, string>> = { Mod: 'Ctrl' }

/** The keys as a person reads them: "Ctrl+Shift+S" on Linux and Windows, "⌘⇧S" on a Mac. */
export function keyLabel(keys: string, isApple = isApplePlatform()): string {
  const parts = keys.split(/-(?!$)/).map((part) => {
    const named = (isApple ? MAC_KEYS : OTHER_KEYS)[part]
    if (named !== undefined) return named
    return part.length === 1 ? part.toUpperCase() : part
  })
  return parts.join(isApple ? '' : '+')
}

/** "Bold (Ctrl+B)": a tooltip naming the action and its first shortcut. */
export function tooltip(id: ShortcutId): string {
  const { label, keys } = shortcut(id)
  return keys[0] === undefined ? label : `${label} (${keyLabel(keys[0])})`
}
