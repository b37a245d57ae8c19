import { MAX_DOC_ID_LENGTH } from '@tandem/shared'
import { useState, type FormEvent } from 'react'
import { createDocument } from '../api.ts'
import { docIdFromInput, editorPath } from '../route.ts'

type CreateState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'creating' }
  | { readonly kind: 'failed'; readonly message: string }

export function Home() {
  const [create, setCreate] = useState<CreateState>({ kind: 'idle' })
  const [openInput, setOpenInput] = useState('')
  const [openError, setOpenError] = useState<string | null>(null)

  const onNewDocument = async (): Promise<void> => {
    setCreate({ kind: 'creating' })
    try {
      const { url } = await createDocument()
      window.location.assign(url)
    } catch (error) {
      setCreate({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
    }
  }

  const onOpen = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const docId = docIdFromInput(openInput)
    if (docId === null) {
      setOpenError(`A document id is 1–${MAX_DOC_ID_LENGTH} letters, digits, “-” or “_”.`)
      return
    }
    window.location.assign(editorPath(docId))
  }

  return (
    <main className="home">
      <h1 className="home-title">Tandem</h1>
      <p className="home-tagline">Write together, in real time, on any network.</p>

      <section className="card">
        <button
          type="button"
          className="button button-primary"
          disabled={create.kind === 'creating'}
          onClick={() => void onNewDocument()}
        >
          {create.kind === 'creating' ? 'Creating…' : 'New document'}
        </button>
        {create.kind === 'failed' && (
          <p className="error" role="alert">
            Could not create a document: {create.message}
          </p>
        )}
      </section>

      <section className="card">
        <form className="open-form" onSubmit={onOpen} noValidate>
          <label htmlFor="open-doc-id">Open by id or link</label>
          <div className="open-row">
            <input
              id="open-doc-id"
              name="docId"
              autoComplete="off"
              spellCheck={false}
              placeholder="e.g. q3Zx9_hT2aBc"
              value={openInput}
              aria-invalid={openError !== null}
              aria-describedby={openError === null ? undefined : 'open-doc-error'}
              onChange={(event) => {
                setOpenInput(event.target.value)
                setOpenError(null)
              }}
            />
            <button type="submit" className="button">
              Open
            </button>
          </div>
          {openError !== null && (
            <p id="open-doc-error" className="error" role="alert">
              {openError}
            </p>
          )}
        </form>
      </section>
    </main>
  )
}
