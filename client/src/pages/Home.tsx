import { MAX_DOC_ID_LENGTH } from '@tandem/shared'
import { useMemo, useState, type FormEvent } from 'react'
import { createDocument, errorMessage } from '../api.ts'
import { openPathOf, RecentDocuments } from '../home/RecentDocuments.tsx'
import { rememberDoc, rememberedDoc, takeNotice } from '../links.ts'
import { documentPath, openTargetFromInput } from '../route.ts'
import { browserStore, type KeyValueStore } from '../storage.ts'
import { ThemeToggle } from '../ui/ThemeToggle.tsx'

type CreateState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'creating' }
  | { readonly kind: 'failed'; readonly message: string }

export function Home() {
  const store = useMemo(browserStore, [])
  // Left by a document page that deleted its document (R61); shown once.
  const [notice] = useState(() => takeNotice(store))
  const [create, setCreate] = useState<CreateState>({ kind: 'idle' })
  const [openInput, setOpenInput] = useState('')
  const [openError, setOpenError] = useState<string | null>(null)

  const onNewDocument = async (): Promise<void> => {
    setCreate({ kind: 'creating' })
    try {
      const links = await createDocument()
      // Freshly issued, so both are good: the home list shows the view link from the start.
      rememberDoc(store, links.id, { editToken: links.editToken, viewToken: links.viewToken })
      window.location.assign(links.editUrl)
    } catch (error) {
      setCreate({ kind: 'failed', message: errorMessage(error) })
    }
  }

  const onOpen = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const result = pathToOpen(store, openInput)
    if (result.kind === 'error') setOpenError(result.message)
    else window.location.assign(result.path)
  }

  return (
    <main className="home">
      <div className="home-top">
        <h1 className="home-title">Tandem</h1>
        <ThemeToggle />
      </div>
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
              placeholder="Paste a link, e.g. https://…/d/q3Zx9_hT2aBc?k=…"
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

      <RecentDocuments store={store} notice={notice} />
    </main>
  )
}

type OpenResult =
  { readonly kind: 'path'; readonly path: string } | { readonly kind: 'error'; readonly message: string }

/** A pasted link opens as given; a bare id only with a token this browser remembers. */
function pathToOpen(store: KeyValueStore, input: string): OpenResult {
  const target = openTargetFromInput(input)
  if (target === null) {
    return {
      kind: 'error',
      message: `Paste a document link, or an id of 1–${MAX_DOC_ID_LENGTH} letters, digits, “-” or “_”.`,
    }
  }
  if (target.kind === 'link')
    return { kind: 'path', path: documentPath(target.mode, target.docId, target.token) }
  const path = openPathOf(rememberedDoc(store, target.docId))
  if (path !== null) return { kind: 'path', path }
  return {
    kind: 'error',
    message: `This browser has no link for “${target.docId}”. Paste the whole link, ending in ?k=…`,
  }
}
