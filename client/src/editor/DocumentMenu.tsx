import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { errorMessage, fetchExport, fetchLinks, type DocumentLinks } from '../api.ts'
import { documentPath } from '../route.ts'
import { DeleteDialog } from './DeleteDialog.tsx'
import { DOWNLOAD_FORMATS, downloadFileName, type DownloadFormat } from './fileName.ts'
import './DocumentMenu.css'
import './print.css'

/** What an edit link may do besides reading: links, reset and delete need its token (R17, R55). */
interface EditActions {
  /** "Reset links…": opens the share dialog, which explains and confirms a reset (R19). */
  readonly onResetLinks: () => void
  /** Called with the links the server answered, so the page can remember the view token. */
  readonly onLinksLoaded: (links: DocumentLinks) => void
  /** After a delete: the page leaves for the home list. */
  readonly onDeleted: () => void
}

interface Props {
  readonly docId: string
  /** The token this page uses: an edit token with `edit`, else a view token. */
  readonly token: string
  /** The title, for file names and the delete dialog; '' while untitled. */
  readonly title: string
  /** Given on an edit link; a view link's menu downloads, prints and copies its own link. */
  readonly edit?: EditActions
}

type Item =
  | { readonly kind: 'download'; readonly format: DownloadFormat }
  | { readonly kind: 'print' }
  | { readonly kind: 'copy'; readonly link: 'edit' | 'view' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'delete' }

const ITEMS: ReadonlyArray<{
  readonly item: Item
  readonly label: string
  readonly separatorBefore?: boolean
}> = [
  ...DOWNLOAD_FORMATS.map((format) => ({
    item: { kind: 'download', format } as const,
    label: `Download as ${format.label}`,
  })),
  { item: { kind: 'print' }, label: 'Print…' },
  { item: { kind: 'copy', link: 'edit' }, label: 'Copy edit link', separatorBefore: true },
  { item: { kind: 'copy', link: 'view' }, label: 'Copy view link' },
  { item: { kind: 'reset' }, label: 'Reset links…' },
  { item: { kind: 'delete' }, label: 'Delete document…', separatorBefore: true },
]

const NOTICE_MS = 3_000

/**
 * The header's "Document" menu (SPEC R61): downloads, print, links, delete. A WAI-ARIA menu button
 * written out (a dozen lines of keyboard handling do not need a library): the button says it has a
 * menu and whether it is open; ↓/↑/Home/End move between items, Enter or Space picks one, Escape
 * or Tab closes it, Escape giving focus back to the button.
 */
/** A view link's menu: what reading allows (R20). */
const VIEW_ITEMS = ITEMS.filter(({ item }) => item.kind === 'download' || item.kind === 'print').concat([
  { item: { kind: 'copy', link: 'view' }, label: 'Copy view link', separatorBefore: true },
])

export function DocumentMenu({ docId, token, title, edit }: Props) {
  const items = edit ? ITEMS : VIEW_ITEMS
  const menuId = useId()
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLDivElement>(null)
  const [isOpen, setIsOpen] = useState(false)
  const [focusOnOpen, setFocusOnOpen] = useState<'first' | 'last'>('first')
  const [notice, setNotice] = useState<{ readonly text: string; readonly isError: boolean } | null>(null)
  const [isConfirmingDelete, setIsConfirmingDelete] = useState(false)

  useEffect(() => {
    if (!isOpen) return undefined
    const items = menuItems(menuRef.current)
    ;(focusOnOpen === 'first' ? items[0] : items.at(-1))?.focus()
    // A press anywhere else closes the menu, like the platform's own menus.
    const onPointerDown = (event: PointerEvent): void => {
      const target = event.target as Node
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setIsOpen(false)
    }
    document.addEventListener('pointerdown', onPointerDown)
    return () => document.removeEventListener('pointerdown', onPointerDown)
  }, [isOpen, focusOnOpen])

  useEffect(() => {
    if (notice === null) return undefined
    const timer = setTimeout(() => setNotice(null), NOTICE_MS)
    return () => clearTimeout(timer)
  }, [notice])

  const open = (focus: 'first' | 'last'): void => {
    setFocusOnOpen(focus)
    setIsOpen(true)
  }

  const close = (returnFocus: boolean): void => {
    setIsOpen(false)
    if (returnFocus) buttonRef.current?.focus()
  }

  const run = async (item: Item): Promise<void> => {
    close(item.kind !== 'delete' && item.kind !== 'reset')
    switch (item.kind) {
      case 'download':
        return download(item.format)
      case 'print':
        window.print()
        return
      case 'copy':
        return copyLink(item.link)
      case 'reset':
        edit?.onResetLinks()
        return
      case 'delete':
        setIsConfirmingDelete(true)
        return
    }
  }

  const download = async (format: DownloadFormat): Promise<void> => {
    try {
      const blob = await fetchExport(docId, token, format.format)
      saveFile(blob, downloadFileName(title, format.extension))
    } catch (error) {
      setNotice({ text: `Could not download: ${errorMessage(error)}`, isError: true })
    }
  }

  const copyLink = async (link: 'edit' | 'view'): Promise<void> => {
    try {
      let path = documentPath('view', docId, token)
      if (edit) {
        const links = await fetchLinks(docId, token)
        edit.onLinksLoaded(links)
        path = link === 'edit' ? links.editUrl : links.viewUrl
      }
      await navigator.clipboard.writeText(new URL(path, window.location.origin).href)
      setNotice({ text: link === 'edit' ? 'Edit link copied' : 'View link copied', isError: false })
    } catch (error) {
      // Clipboard access needs a secure context and permission; Share shows the links to select.
      setNotice({
        text: `Could not copy the link: ${errorMessage(error)}. Use Share instead.`,
        isError: true,
      })
    }
  }

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const items = menuItems(menuRef.current)
    const index = items.indexOf(document.activeElement as HTMLElement)
    const focusAt = (next: number): void => items[(next + items.length) % items.length]?.focus()
    switch (event.key) {
      case 'ArrowDown':
        focusAt(index + 1)
        break
      case 'ArrowUp':
        focusAt(index - 1)
        break
      case 'Home':
        focusAt(0)
        break
      case 'End':
        focusAt(items.length - 1)
        break
      case 'Escape':
        close(true)
        break
      case 'Tab':
        close(false)
        return
      default:
        return
    }
    event.preventDefault()
  }

  return (
    <span className="document-menu">
      <button
        ref={buttonRef}
        type="button"
        className="button button-small"
        data-testid="document-menu-button"
        aria-haspopup="menu"
        aria-expanded={isOpen}
        aria-controls={isOpen ? menuId : undefined}
        onClick={() => (isOpen ? close(false) : open('first'))}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault()
            open(event.key === 'ArrowDown' ? 'first' : 'last')
          }
        }}
      >
        Document
        <span aria-hidden="true" className="document-menu-caret">
          ▾
        </span>
      </button>
      {isOpen && (
        <div
          ref={menuRef}
          id={menuId}
          role="menu"
          aria-label="Document"
          className="document-menu-list"
          data-testid="document-menu"
          onKeyDown={onMenuKeyDown}
        >
          {items.map(({ item, label, separatorBefore }) => (
            <MenuEntry
              key={label}
              label={label}
              isDanger={item.kind === 'delete'}
              separatorBefore={separatorBefore === true}
              onPick={() => void run(item)}
            />
          ))}
        </div>
      )}
      <span
        role="status"
        className="document-menu-notice"
        data-testid="document-menu-notice"
        data-error={notice?.isError === true}
      >
        {notice?.text}
      </span>
      {isConfirmingDelete && edit && (
        <DeleteDialog
          docId={docId}
          token={token}
          title={title}
          onCancel={() => setIsConfirmingDelete(false)}
          onDeleted={edit.onDeleted}
        />
      )}
    </span>
  )
}

function MenuEntry({
  label,
  isDanger,
  separatorBefore,
  onPick,
}: {
  readonly label: string
  readonly isDanger: boolean
  readonly separatorBefore: boolean
  readonly onPick: () => void
}) {
  return (
    <>
      {separatorBefore && <div role="separator" className="document-menu-separator" />}
      <button
        type="button"
        role="menuitem"
        tabIndex={-1}
        className="document-menu-item"
        data-danger={isDanger}
        onClick={onPick}
      >
        {label}
      </button>
    </>
  )
}

function menuItems(menu: HTMLElement | null): HTMLElement[] {
  return menu === null ? [] : Array.from(menu.querySelectorAll<HTMLElement>('[role="menuitem"]'))
}

/** Saves `blob` under `name` through a temporary link: the browser's own download, no popup. */
function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  // The download has started by now; revoking later would keep the bytes for the page's life.
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
