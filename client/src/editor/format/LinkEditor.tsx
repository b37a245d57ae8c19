import type { Editor } from '@tiptap/core'
import { useId, useState, type FormEvent } from 'react'
import { Dialog } from '../../ui/Dialog.tsx'
import { checkLinkUrl } from './urls.ts'

interface Props {
  readonly editor: Editor
  readonly onClose: () => void
}

/**
 * The link editor (SPEC R59), opened by Ctrl/⌘+K, the toolbar or the bubble menu: adds a link to
 * the selection, or edits, opens or removes the link the caret is in. With nothing selected and
 * no link under the caret it also asks for the text to link. Only web and e-mail addresses are
 * accepted (`checkLinkUrl`); anything else is refused with the reason next to the field.
 */
export function LinkEditor({ editor, onClose }: Props) {
  const id = useId()
  // Read once, when the dialog opens: the selection it acts on does not move while it is open.
  const [initial] = useState(() => {
    const href: unknown = editor.getAttributes('link').href
    const { empty } = editor.state.selection
    return {
      href: typeof href === 'string' ? href : '',
      isOnLink: editor.isActive('link'),
      asksForText: empty && !editor.isActive('link'),
    }
  })
  const [url, setUrl] = useState(initial.href)
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const existing = initial.isOnLink ? checkLinkUrl(initial.href) : null

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const checked = checkLinkUrl(url)
    if (!checked.ok) {
      setError(checked.error)
      return
    }
    const applied = initial.asksForText
      ? editor
          .chain()
          .focus()
          .insertContent({
            type: 'text',
            text: text.trim() === '' ? checked.href : text,
            marks: [{ type: 'link', attrs: { href: checked.href } }],
          })
          .run()
      : editor.chain().focus().extendMarkRange('link').setLink({ href: checked.href }).run()
    if (!applied) {
      setError('This link cannot be added here.')
      return
    }
    onClose()
  }

  const remove = (): void => {
    editor.chain().focus().extendMarkRange('link').unsetLink().run()
    onClose()
  }

  return (
    <Dialog labelledBy={`${id}-title`} onClose={onClose} className="format-dialog" testId="link-editor">
      {/* No autoFocus: showModal() focuses the first field, and Dialog must see the opener focused. */}
      <form className="format-dialog-form" onSubmit={submit} noValidate>
        <h2 id={`${id}-title`}>{initial.isOnLink ? 'Edit link' : 'Add link'}</h2>
        <label htmlFor={`${id}-url`}>Link</label>
        <input
          id={`${id}-url`}
          name="url"
          type="text"
          inputMode="url"
          autoComplete="url"
          placeholder="example.com or name@example.com"
          value={url}
          aria-invalid={error !== null}
          aria-describedby={error === null ? undefined : `${id}-error`}
          onChange={(event) => {
            setUrl(event.target.value)
            setError(null)
          }}
        />
        {error !== null && (
          <p className="error" id={`${id}-error`} role="alert">
            {error}
          </p>
        )}
        {initial.asksForText && (
          <>
            <label htmlFor={`${id}-text`}>Text to show</label>
            <input
              id={`${id}-text`}
              name="text"
              type="text"
              placeholder="Optional: the address itself if empty"
              value={text}
              onChange={(event) => setText(event.target.value)}
            />
          </>
        )}
        <div className="dialog-actions">
          <button type="submit" className="button button-primary">
            {initial.isOnLink ? 'Save' : 'Add link'}
          </button>
          {existing?.ok === true && (
            <a className="button" href={existing.href} target="_blank" rel="noopener noreferrer">
              Open link
            </a>
          )}
          {initial.isOnLink && (
            <button type="button" className="button button-danger" onClick={remove}>
              Remove link
            </button>
          )}
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}
