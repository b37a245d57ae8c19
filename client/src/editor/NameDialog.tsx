import { useId, useState, type FormEvent } from 'react'
import { Dialog } from '../ui/Dialog.tsx'
import { MAX_NAME_LENGTH, normalizeName } from './identity.ts'

interface Props {
  /** The name in use: the field starts with it, selected, so typing replaces it. */
  readonly current: string
  /** Who sees the name: editors see it on carets and in the list; viewers' names reach editors. */
  readonly audience: 'editor' | 'viewer'
  readonly onSubmit: (name: string) => void
  readonly onCancel: () => void
}

/** "Change your name", opened from your own presence entry (SPEC R58, R63). Never blocks the page. */
export function NameDialog({ current, audience, onSubmit, onCancel }: Props) {
  const id = useId()
  const [value, setValue] = useState(current)
  const [hasTried, setHasTried] = useState(false)
  const name = normalizeName(value)

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    setHasTried(true)
    if (name !== null) onSubmit(name)
  }

  return (
    <Dialog labelledBy={`${id}-title`} onClose={onCancel} testId="name-dialog">
      <form className="dialog-form" onSubmit={submit} noValidate>
        <h2 id={`${id}-title`}>Change your name</h2>
        <p className="muted">
          {audience === 'editor'
            ? 'Others see it next to your cursor and in the list of people here.'
            : 'Editors see it in the list of people viewing.'}{' '}
          It is remembered on this device.
        </p>
        <label htmlFor="display-name">Display name</label>
        {/* No autoFocus: showModal() focuses the first field, and Dialog must see the opener focused. */}
        <input
          id="display-name"
          name="displayName"
          autoComplete="nickname"
          maxLength={MAX_NAME_LENGTH}
          value={value}
          aria-invalid={hasTried && name === null}
          aria-describedby={hasTried && name === null ? `${id}-error` : undefined}
          onChange={(event) => setValue(event.target.value)}
          onFocus={(event) => event.target.select()}
        />
        {hasTried && name === null && (
          <p className="error" id={`${id}-error`} role="alert">
            Enter a name of 1–{MAX_NAME_LENGTH} characters.
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" className="button button-primary">
            Save name
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}
