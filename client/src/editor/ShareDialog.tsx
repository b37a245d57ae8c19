import { useEffect, useState } from 'react'
import { errorMessage, fetchLinks, type DocumentLinks } from '../api.ts'
import type { SaveState } from '../sync/index.ts'
import { Dialog } from '../ui/Dialog.tsx'
import { CopyButton } from './CopyButton.tsx'

interface Props {
  readonly docId: string
  /** The edit token this page uses; the links route refuses view tokens. */
  readonly token: string
  readonly save: SaveState
  /** Called with the links the server answered, so the caller can remember the view token. */
  readonly onLoaded: (links: DocumentLinks) => void
  /** Issues new links and moves this page onto the new edit token; rejects with why it failed. */
  readonly onReset: () => Promise<DocumentLinks>
  readonly onClose: () => void
}

/** The dialog's lifecycle (STYLE.md 6). Reset is only offered once the current links are shown. */
type DialogState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'unavailable'; readonly message: string }
  | { readonly kind: 'showing'; readonly links: DocumentLinks; readonly hasJustReset: boolean }
  | { readonly kind: 'confirming'; readonly links: DocumentLinks }
  | { readonly kind: 'resetting'; readonly links: DocumentLinks }
  | { readonly kind: 'resetFailed'; readonly links: DocumentLinks; readonly message: string }

/** "Share": the document's edit and view links, and the way to revoke both (SPEC R19), in a modal (R63). */
export function ShareDialog({ docId, token, save, onLoaded, onReset, onClose }: Props) {
  const [state, setState] = useState<DialogState>({ kind: 'loading' })
  // The links are fetched once per opening; a reset from here brings its own new links.
  const [initialToken] = useState(token)

  useEffect(() => {
    let isCurrent = true
    fetchLinks(docId, initialToken).then(
      (links) => {
        onLoaded(links)
        if (isCurrent) setState({ kind: 'showing', links, hasJustReset: false })
      },
      (error: unknown) => {
        if (isCurrent) setState({ kind: 'unavailable', message: errorMessage(error) })
      },
    )
    return () => {
      isCurrent = false
    }
  }, [docId, initialToken, onLoaded])

  const reset = async (links: DocumentLinks): Promise<void> => {
    setState({ kind: 'resetting', links })
    try {
      setState({ kind: 'showing', links: await onReset(), hasJustReset: true })
    } catch (error) {
      setState({ kind: 'resetFailed', links, message: errorMessage(error) })
    }
  }

  return (
    <Dialog labelledBy="share-dialog-title" onClose={onClose} className="share-dialog" testId="share-dialog">
      <h2 id="share-dialog-title">Share this document</h2>
      <ShareBody state={state} save={save} setState={setState} reset={reset} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  )
}

interface BodyProps {
  readonly state: DialogState
  readonly save: SaveState
  readonly setState: (state: DialogState) => void
  readonly reset: (links: DocumentLinks) => Promise<void>
}

function ShareBody({ state, save, setState, reset }: BodyProps) {
  switch (state.kind) {
    case 'loading':
      return <p className="muted">Loading the links…</p>
    case 'unavailable':
      return (
        <p className="error" role="alert">
          Could not load the links: {state.message}.
        </p>
      )
    case 'showing':
    case 'confirming':
    case 'resetting':
    case 'resetFailed':
      return (
        <>
          <LinkField
            id="share-edit-link"
            label="Edit link"
            hint="Anyone with this link can edit."
            path={state.links.editUrl}
          />
          <LinkField
            id="share-view-link"
            label="View link"
            hint="Anyone with this link can watch the document live, without editing."
            path={state.links.viewUrl}
          />
          {state.kind === 'showing' && state.hasJustReset && (
            <p className="notice" role="status">
              New links are ready. The old ones no longer work.
            </p>
          )}
          <ResetSection state={state} save={save} setState={setState} reset={reset} />
        </>
      )
  }
}

function ResetSection({ state, save, setState, reset }: BodyProps) {
  switch (state.kind) {
    case 'loading':
    case 'unavailable':
      return null
    case 'showing':
    case 'resetFailed':
      return (
        <div className="share-reset">
          <button
            type="button"
            className="button button-danger"
            data-testid="share-reset"
            onClick={() => setState({ kind: 'confirming', links: state.links })}
          >
            Reset links…
          </button>
          {state.kind === 'resetFailed' && (
            <p className="error" role="alert">
              Could not reset the links: {state.message}.
            </p>
          )}
        </div>
      )
    case 'confirming':
    case 'resetting': {
      // A reset closes this page's connection too; waiting for "Saved" means no edit rides on it.
      const isWaitingForSave = save !== 'saved'
      return (
        <div className="share-reset share-reset-confirm" role="group" aria-label="Confirm reset">
          <p>
            Both links stop working at once, and everyone using them, viewers included, is disconnected. You
            keep editing here with the new edit link.
          </p>
          {isWaitingForSave && <p className="muted">Waiting until your latest edits are saved…</p>}
          <div className="dialog-actions">
            <button
              type="button"
              className="button button-danger"
              data-testid="share-reset-confirm"
              disabled={state.kind === 'resetting' || isWaitingForSave}
              onClick={() => void reset(state.links)}
            >
              {state.kind === 'resetting' ? 'Resetting…' : 'Reset both links'}
            </button>
            <button
              type="button"
              className="button"
              disabled={state.kind === 'resetting'}
              onClick={() => setState({ kind: 'showing', links: state.links, hasJustReset: false })}
            >
              Cancel
            </button>
          </div>
        </div>
      )
    }
  }
}

interface LinkFieldProps {
  readonly id: string
  readonly label: string
  readonly hint: string
  /** Site-relative, from the server; shown and copied absolute. */
  readonly path: string
}

function LinkField({ id, label, hint, path }: LinkFieldProps) {
  const url = new URL(path, window.location.origin).toString()
  return (
    <div className="share-link">
      <label htmlFor={id}>{label}</label>
      <p className="muted share-hint" id={`${id}-hint`}>
        {hint}
      </p>
      <div className="open-row">
        <input
          id={id}
          data-testid={id}
          readOnly
          value={url}
          aria-describedby={`${id}-hint`}
          onFocus={(event) => event.currentTarget.select()}
        />
        <CopyButton text={url} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  )
}
