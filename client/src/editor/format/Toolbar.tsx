import type { Editor } from '@tiptap/core'
import { useEditorState } from '@tiptap/react'
import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import {
  BulletListIcon,
  ClearFormattingIcon,
  CodeBlockIcon,
  HeadingIcon,
  ImageIcon,
  KeyboardIcon,
  LinkIcon,
  OrderedListIcon,
  QuoteIcon,
  RedoIcon,
  TableIcon,
  TaskListIcon,
  UndoIcon,
} from './icons.tsx'
import { tooltip, type ShortcutId } from './shortcuts.ts'

/** What the toolbar shows as pressed or available; re-read on every transaction (selection too). */
export interface FormatState {
  readonly bold: boolean
  readonly italic: boolean
  readonly strike: boolean
  readonly code: boolean
  readonly heading1: boolean
  readonly heading2: boolean
  readonly heading3: boolean
  readonly bulletList: boolean
  readonly orderedList: boolean
  readonly taskList: boolean
  readonly blockquote: boolean
  readonly codeBlock: boolean
  readonly link: boolean
  readonly table: boolean
  readonly canUndo: boolean
  readonly canRedo: boolean
}

export function useFormatState(editor: Editor): FormatState {
  return useEditorState({
    editor,
    selector: ({ editor: current }): FormatState => ({
      bold: current.isActive('bold'),
      italic: current.isActive('italic'),
      strike: current.isActive('strike'),
      code: current.isActive('code'),
      heading1: current.isActive('heading', { level: 1 }),
      heading2: current.isActive('heading', { level: 2 }),
      heading3: current.isActive('heading', { level: 3 }),
      bulletList: current.isActive('bulletList'),
      orderedList: current.isActive('orderedList'),
      taskList: current.isActive('taskList'),
      blockquote: current.isActive('blockquote'),
      codeBlock: current.isActive('codeBlock'),
      link: current.isActive('link'),
      table: current.isActive('table'),
      canUndo: current.can().undo(),
      canRedo: current.can().redo(),
    }),
  })
}

/** Clear formatting: marks off, blocks back to paragraphs (Mod-\, the toolbar). */
export function clearFormatting(editor: Editor): boolean {
  return editor.chain().focus().unsetAllMarks().clearNodes().run()
}

interface ToolbarProps {
  readonly editor: Editor
  readonly onLink: () => void
  readonly onImage: () => void
  readonly onShortcuts: () => void
  /** Distance from the viewport's top at which the toolbar sticks (below the page header). */
  readonly stickyTopPx: number
}

export interface ButtonSpec {
  readonly id: string
  readonly label: string
  readonly title: string
  readonly content: ReactNode
  readonly run: () => void
  /** A toggle: `aria-pressed` says whether the selection has it. */
  readonly isPressed?: boolean
  readonly isDisabled?: boolean
}

/**
 * The formatting toolbar (SPEC R59): a WAI-ARIA toolbar, one Tab stop whose buttons the arrow
 * keys move between (Home and End to the ends). Buttons do not take focus from the text on a
 * click, so the selection they act on stays where it was; each returns focus to the text.
 */
export function Toolbar({ editor, onLink, onImage, onShortcuts, stickyTopPx }: ToolbarProps) {
  const state = useFormatState(editor)
  const chain = () => editor.chain().focus()
  const toggle = (
    id: ShortcutId,
    label: string,
    content: ReactNode,
    isPressed: boolean,
    run: () => void,
  ) => ({
    id,
    label,
    title: tooltip(id),
    content,
    run,
    isPressed,
  })

  const groups: ButtonSpec[][] = [
    [
      toggle('bold', 'Bold', <b>B</b>, state.bold, () => chain().toggleBold().run()),
      toggle('italic', 'Italic', <i>I</i>, state.italic, () => chain().toggleItalic().run()),
      toggle('strike', 'Strikethrough', <s>S</s>, state.strike, () => chain().toggleStrike().run()),
      toggle('code', 'Inline code', <code>{'</>'}</code>, state.code, () => chain().toggleCode().run()),
    ],
    [1, 2, 3].map((level) =>
      toggle(
        `heading${level}` as ShortcutId,
        `Heading ${level}`,
        <HeadingIcon level={level as 1 | 2 | 3} />,
        state[`heading${level}` as 'heading1'],
        () =>
          chain()
            .toggleHeading({ level: level as 1 | 2 | 3 })
            .run(),
      ),
    ),
    [
      toggle('bulletList', 'Bulleted list', <BulletListIcon />, state.bulletList, () =>
        chain().toggleBulletList().run(),
      ),
      toggle('orderedList', 'Numbered list', <OrderedListIcon />, state.orderedList, () =>
        chain().toggleOrderedList().run(),
      ),
      toggle('taskList', 'Task list', <TaskListIcon />, state.taskList, () => chain().toggleTaskList().run()),
    ],
    [
      toggle('blockquote', 'Quote', <QuoteIcon />, state.blockquote, () => chain().toggleBlockquote().run()),
      toggle('codeBlock', 'Code block', <CodeBlockIcon />, state.codeBlock, () =>
        chain().toggleCodeBlock().run(),
      ),
    ],
    [
      { ...toggle('link', 'Link', <LinkIcon />, state.link, onLink) },
      {
        id: 'image',
        label: 'Image',
        title: 'Image from a web address',
        content: <ImageIcon />,
        run: onImage,
      },
      {
        id: 'table',
        label: 'Insert table',
        title: 'Insert a 3 × 3 table',
        content: <TableIcon />,
        run: () => chain().insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run(),
        isDisabled: state.table,
      },
    ],
    [
      {
        id: 'undo',
        label: 'Undo',
        title: tooltip('undo'),
        content: <UndoIcon />,
        run: () => chain().undo().run(),
        isDisabled: !state.canUndo,
      },
      {
        id: 'redo',
        label: 'Redo',
        title: tooltip('redo'),
        content: <RedoIcon />,
        run: () => chain().redo().run(),
        isDisabled: !state.canRedo,
      },
      {
        id: 'clearFormatting',
        label: 'Clear formatting',
        title: tooltip('clearFormatting'),
        content: <ClearFormattingIcon />,
        run: () => clearFormatting(editor),
      },
    ],
    [
      {
        id: 'shortcuts',
        label: 'Keyboard shortcuts',
        title: tooltip('shortcuts'),
        content: <KeyboardIcon />,
        run: onShortcuts,
      },
    ],
  ]

  return (
    <ToolbarFrame label="Formatting" className="format-toolbar" stickyTopPx={stickyTopPx} groups={groups} />
  )
}

interface FrameProps {
  readonly label: string
  readonly className: string
  readonly groups: readonly (readonly ButtonSpec[])[]
  readonly stickyTopPx?: number
}

/** A row of button groups with one Tab stop and arrow-key movement (the ARIA toolbar pattern). */
export function ToolbarFrame({ label, className, groups, stickyTopPx }: FrameProps) {
  const ref = useRef<HTMLDivElement>(null)
  const [focusedId, setFocusedId] = useState<string | null>(null)
  const enabled = groups.flat().filter((button) => !button.isDisabled)
  const tabStop = enabled.some((button) => button.id === focusedId) ? focusedId : enabled[0]?.id

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])]
    const index = buttons.findIndex((button) => button === document.activeElement)
    if (index < 0 || buttons.length === 0) return
    const next: Partial<Record<string, number>> = {
      ArrowRight: (index + 1) % buttons.length,
      ArrowLeft: (index - 1 + buttons.length) % buttons.length,
      Home: 0,
      End: buttons.length - 1,
    }
    const target = next[event.key]
    if (target === undefined) return
    event.preventDefault()
    buttons[target]?.focus()
  }

  return (
    <div
      ref={ref}
      role="toolbar"
      aria-label={label}
      className={className}
      style={stickyTopPx === undefined ? undefined : { top: `${stickyTopPx}px` }}
      onKeyDown={onKeyDown}
    >
      {groups.map((group, index) => (
        <div key={group[0]?.id ?? index} className="format-group" role="group">
          {group.map((button) => (
            <button
              key={button.id}
              type="button"
              className="format-button"
              data-format={button.id}
              aria-label={button.label}
              aria-pressed={button.isPressed}
              title={button.title}
              disabled={button.isDisabled}
              tabIndex={button.id === tabStop ? 0 : -1}
              onFocus={() => setFocusedId(button.id)}
              // The text keeps focus and its selection while the button is pressed.
              onMouseDown={(event) => event.preventDefault()}
              onClick={button.run}
            >
              {button.content}
            </button>
          ))}
        </div>
      ))}
    </div>
  )
}
