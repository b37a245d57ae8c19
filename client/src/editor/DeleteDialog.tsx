import { useId, useState } from 'react'
import { deleteDocument, errorMessage } from '../api.ts'
import { Dialog } from '../ui/Dialog.tsx'

type DeleteState =
  | { readonly kind: 'confirming' }
  | { readonly kind: 'deleting' }
  | { readonly kind: 'failed'; readonly message: string }

/** "Delete document…" asks first, naming the document: a delete is for everyone and for good (R55). */
export function DeleteDialog({
  docId,
  token,
  title,
  onCancel,
  onDeleted,
}: {
  readonly docId: string
  readonly token: string
  readonly title: string
  readonly onCancel: () => void
  readonly onDeleted: () => void
}) {
  const headingId = useId()
  const [state, setState] = useState<DeleteState>({ kind: 'confirming' })
  const confirm = async (): Promise<void> => {
    setState({ kind: 'deleting' })
    try {
      await deleteDocument(docId, token)
      onDeleted()
    } catch (error) {
      setState({ kind: 'failed', message: errorMessage(error) })
    }
  }
  return (
    <Dialog labelledBy={headingId} onClose={onCancel} testId="delete-dialog">
      <h2 id={headingId}>Delete “{title === '' ? 'Untitled' : title}”?</h2>
      <p>
        The document is deleted for everyone who has its links, and its history with it. This cannot be
        undone.
      </p>
      {state.kind === 'failed' && (
        <p className="error" role="alert">
          Could not delete it: {state.message}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          data-testid="confirm-delete"
          disabled={state.kind === 'deleting'}
          onClick={() => void confirm()}
        >
          {state.kind === 'deleting' ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </Dialog>
  )
}
