import { useState, type FormEvent } from 'react'
import { MAX_NAME_LENGTH, normalizeName } from './identity.ts'

interface Props {
  readonly onSubmit: (name: string) => void
  /** Given on the viewer page: viewers may stay anonymous. */
  readonly onSkip?: () => void
  /** Given when changing the name in use: the dialog starts with it and can be cancelled. */
  readonly rename?: { readonly current: string; readonly onCancel: () => void }
}

/** Asked once per browser: the name others see on your caret, in the presence list or as a viewer. */
export function NameDialog({ onSubmit, onSkip, rename }: Props) {
  const isViewer = onSkip !== undefined
  const [value, setValue] = useState(rename?.current ?? '')
  const [hasTried, setHasTried] = useState(false)
  const name = normalizeName(value)

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    setHasTried(true)
    if (name !== null) onSubmit(name)
  }

  return (
    <div className="dialog-backdrop">
      <form
        className="dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="name-dialog-title"
        onSubmit={submit}
        noValidate
      >
        <h2 id="name-dialog-title">{rename ? 'Change your name' : 'What should others call you?'}</h2>
        <p className="muted">
          {isViewer
            ? 'Editors see who is watching. You can also stay anonymous.'
            : 'Your name appears next to your cursor.'}{' '}
          It is remembered on this device.
        </p>
        <label htmlFor="display-name">Display name</label>
        <input
          id="display-name"
          name="displayName"
          autoFocus
          autoComplete="nickname"
          maxLength={MAX_NAME_LENGTH}
          value={value}
          aria-invalid={hasTried && name === null}
          onChange={(event) => setValue(event.target.value)}
          // Renaming: the current name is selected, so typing replaces it; Escape cancels.
          onFocus={rename ? (event) => event.target.select() : undefined}
          onKeyDown={rename ? (event) => event.key === 'Escape' && rename.onCancel() : undefined}
        />
        {hasTried && name === null && (
          <p className="error" role="alert">
            Enter a name of 1–{MAX_NAME_LENGTH} characters.
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" className="button button-primary">
            {rename ? 'Save name' : isViewer ? 'View document' : 'Join document'}
          </button>
          {rename && (
            <button type="button" className="button" onClick={rename.onCancel}>
              Cancel
            </button>
          )}
          {isViewer && (
            <button type="button" className="button" onClick={onSkip}>
              Stay anonymous
            </button>
          )}
        </div>
      </form>
    </div>
  )
}
