import type { Editor } from '@tiptap/core'
import { useId, useState, type FormEvent } from 'react'
import { Dialog } from '../../ui/Dialog.tsx'
import { checkImageUrl } from './urls.ts'

interface Props {
  readonly editor: Editor
  readonly onClose: () => void
}

/**
 * Inserts an image by its web address (SPEC R59), with the text that describes it to those who
 * cannot see it. Only http(s) addresses (`checkImageUrl`): the image loads in every reader's
 * browser, so nothing else (`data:`, `javascript:`, a file) is let in.
 */
export function ImageDialog({ editor, onClose }: Props) {
  const id = useId()
  const [url, setUrl] = useState('')
  const [alt, setAlt] = useState('')
  const [error, setError] = useState<string | null>(null)

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const checked = checkImageUrl(url)
    if (!checked.ok) {
      setError(checked.error)
      return
    }
    editor.chain().focus().setImage({ src: checked.href, alt: alt.trim() }).run()
    onClose()
  }

  return (
    <Dialog labelledBy={`${id}-title`} onClose={onClose} className="format-dialog" testId="image-dialog">
      {/* No autoFocus: showModal() focuses the first field, and Dialog must see the opener focused. */}
      <form className="format-dialog-form" onSubmit={submit} noValidate>
        <h2 id={`${id}-title`}>Insert image</h2>
        <label htmlFor={`${id}-url`}>Image address</label>
        <input
          id={`${id}-url`}
          name="url"
          type="text"
          inputMode="url"
          placeholder="https://example.com/picture.png"
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
        <label htmlFor={`${id}-alt`}>Description (alt text)</label>
        <input
          id={`${id}-alt`}
          name="alt"
          type="text"
          placeholder="What the image shows"
          value={alt}
          onChange={(event) => setAlt(event.target.value)}
        />
        <div className="dialog-actions">
          <button type="submit" className="button button-primary">
            Insert image
          </button>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}
