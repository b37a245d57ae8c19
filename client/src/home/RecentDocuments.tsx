import { CLOSE_REASONS } from '@tandem/shared'
import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react'
import { errorMessage, setDocumentTitle } from '../api.ts'
import { DeleteDialog } from '../editor/DeleteDialog.tsx'
import { forgetDoc, noteDocStatus, rememberedDocs, type RememberedDoc } from '../links.ts'
import { documentPath } from '../route.ts'
import type { KeyValueStore } from '../storage.ts'
import { DocLiveStatus } from './DocLiveStatus.tsx'
import { knownOf, type DocWatch } from './docWatch.ts'
import { useDocWatch } from './useDocWatch.ts'
import './recentDocuments.css'

const OPENED_AT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** What the server last said about one entry: the list's title and order follow it (R61). */
interface Heard {
  readonly title: string
  readonly changedAtMs: number
}

/**
 * "Your documents" (SPEC R61): the documents this browser has opened, the most recently changed
 * first (the server's `updatedAt`, live by short polling, R27; before it answers, when it was last
 * opened here), with a search over titles and ids, and per entry rename, remove from this list and
 * delete. A document deleted elsewhere leaves the list with a polite word instead of an error.
 */
export function RecentDocuments({ store, notice }: { store: KeyValueStore; notice: string | null }) {
  const [docs, setDocs] = useState(() => rememberedDocs(store))
  const [heard, setHeard] = useState<ReadonlyMap<string, Heard>>(new Map())
  const [query, setQuery] = useState('')
  const [message, setMessage] = useState<string | null>(notice)
  const searchId = useId()

  const sorted = useMemo(() => {
    const changedAt = (doc: RememberedDoc): number =>
      heard.get(doc.docId)?.changedAtMs ?? doc.changedAtMs ?? doc.openedAtMs
    return [...docs].sort((a, b) => changedAt(b) - changedAt(a))
  }, [docs, heard])

  const needle = query.trim().toLocaleLowerCase()
  const shown = needle === '' ? sorted : sorted.filter((doc) => matches(doc, heard.get(doc.docId), needle))

  const onHeard = (docId: string, next: Heard): void => {
    noteDocStatus(store, docId, next)
    setHeard((current) => {
      const before = current.get(docId)
      if (before?.title === next.title && before.changedAtMs === next.changedAtMs) return current
      return new Map(current).set(docId, next)
    })
  }

  const drop = (doc: RememberedDoc, why: string): void => {
    forgetDoc(store, doc.docId)
    setDocs((current) => current.filter((entry) => entry.docId !== doc.docId))
    setMessage(why)
  }

  if (docs.length === 0 && message === null) return null
  return (
    <section className="card" aria-labelledby={`${searchId}-heading`}>
      <div className="recent-head">
        <h2 id={`${searchId}-heading`} className="card-title">
          Your documents
        </h2>
        {docs.length > 0 && (
          <input
            type="search"
            className="recent-search"
            aria-label="Search your documents"
            placeholder="Search by title or id"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        )}
      </div>
      <p className="recent-notice muted" role="status" data-testid="recent-notice">
        {message}
      </p>
      {docs.length > 0 && shown.length === 0 && (
        <p className="muted">No document matches “{query.trim()}”.</p>
      )}
      <ul className="recent-docs" data-testid="recent-docs">
        {shown.map((doc) => (
          <RecentDocument
            key={doc.docId}
            doc={doc}
            heard={heard.get(doc.docId) ?? null}
            onHeard={onHeard}
            onGone={() =>
              drop(doc, `“${titleOf(doc, heard.get(doc.docId))}” was deleted, so it left your list.`)
            }
            onRemove={() => drop(doc, `“${titleOf(doc, heard.get(doc.docId))}” was removed from this list.`)}
            onDeleted={() => drop(doc, `“${titleOf(doc, heard.get(doc.docId))}” was deleted.`)}
          />
        ))}
      </ul>
    </section>
  )
}

function RecentDocument({
  doc,
  heard,
  onHeard,
  onGone,
  onRemove,
  onDeleted,
}: {
  readonly doc: RememberedDoc
  readonly heard: Heard | null
  readonly onHeard: (docId: string, heard: Heard) => void
  readonly onGone: () => void
  readonly onRemove: () => void
  readonly onDeleted: () => void
}) {
  // Either token reads the status; a remembered document always holds at least one.
  const statusToken = doc.editToken ?? doc.viewToken ?? ''
  const watch = useDocWatch(doc.docId, statusToken)
  const [isRenaming, setIsRenaming] = useState(false)
  const [isDeleting, setIsDeleting] = useState(false)
  const title = heard?.title ?? doc.title ?? ''
  // After a rename (saved or not) focus goes back to the entry's title, not to the page's start.
  const titleRef = useRef<HTMLAnchorElement>(null)
  const wasRenaming = useRef(false)
  useEffect(() => {
    if (wasRenaming.current && !isRenaming) titleRef.current?.focus()
    wasRenaming.current = isRenaming
  }, [isRenaming])

  const known = knownOf(watch)
  const reportRef = useRef({ onHeard, onGone })
  reportRef.current = { onHeard, onGone }
  useEffect(() => {
    if (known !== null)
      reportRef.current.onHeard(doc.docId, {
        title: known.status.title,
        changedAtMs: known.status.updatedAtMs,
      })
  }, [doc.docId, known])
  useEffect(() => {
    if (isGone(watch)) reportRef.current.onGone()
  }, [watch])

  const openPath = openPathOf(doc)
  return (
    <li className="recent-doc" data-testid="doc-entry" data-doc-id={doc.docId}>
      {isRenaming && doc.editToken !== null ? (
        <RenameForm
          docId={doc.docId}
          editToken={doc.editToken}
          title={title}
          onDone={(saved) => {
            if (saved !== null)
              onHeard(doc.docId, { title: saved, changedAtMs: heard?.changedAtMs ?? Date.now() })
            setIsRenaming(false)
          }}
        />
      ) : (
        <a
          ref={titleRef}
          className="recent-doc-title"
          href={openPath ?? undefined}
          data-testid="recent-doc-title"
        >
          {title === '' ? (
            <>
              <span className="recent-untitled">Untitled</span>
              {doc.preview != null && <span className="recent-preview"> — {doc.preview}</span>}
            </>
          ) : (
            title
          )}
        </a>
      )}
      <span className="recent-doc-meta">
        <span className="doc-id">{doc.docId}</span>
        {doc.openedAtMs > 0 && (
          <span className="muted">
            Opened{' '}
            <time dateTime={new Date(doc.openedAtMs).toISOString()}>{OPENED_AT.format(doc.openedAtMs)}</time>
          </span>
        )}
      </span>
      <span className="recent-doc-links">
        {doc.editToken !== null && (
          <a href={documentPath('edit', doc.docId, doc.editToken)} data-testid="recent-doc-edit-link">
            Edit link
          </a>
        )}
        {doc.viewToken !== null && (
          <a href={documentPath('view', doc.docId, doc.viewToken)} data-testid="recent-doc-view-link">
            View link
          </a>
        )}
      </span>
      <DocLiveStatus watch={watch} />
      <span className="recent-doc-actions">
        {doc.editToken !== null && !isRenaming && (
          <button
            type="button"
            className="link-button"
            aria-label={`Rename ${title === '' ? 'Untitled' : title}`}
            onClick={() => setIsRenaming(true)}
          >
            Rename
          </button>
        )}
        <button
          type="button"
          className="link-button"
          aria-label={`Remove from list: ${title === '' ? 'Untitled' : title}`}
          onClick={onRemove}
        >
          Remove from list
        </button>
        {doc.editToken !== null && (
          <button
            type="button"
            className="link-button link-button-danger"
            aria-label={`Delete ${title === '' ? 'Untitled' : title}…`}
            onClick={() => setIsDeleting(true)}
          >
            Delete…
          </button>
        )}
      </span>
      {isDeleting && doc.editToken !== null && (
        <DeleteDialog
          docId={doc.docId}
          token={doc.editToken}
          title={title}
          onCancel={() => setIsDeleting(false)}
          onDeleted={onDeleted}
        />
      )}
    </li>
  )
}

type RenameState =
  | { readonly kind: 'editing' }
  | { readonly kind: 'saving' }
  | { readonly kind: 'failed'; readonly message: string }

/** Inline rename (R60): Enter saves through `PUT /api/docs/:id/title`, Escape keeps the old title. */
function RenameForm({
  docId,
  editToken,
  title,
  onDone,
}: {
  readonly docId: string
  readonly editToken: string
  readonly title: string
  readonly onDone: (saved: string | null) => void
}) {
  const [value, setValue] = useState(title)
  const [state, setState] = useState<RenameState>({ kind: 'editing' })
  const errorId = useId()

  const onSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    setState({ kind: 'saving' })
    try {
      onDone(await setDocumentTitle(docId, editToken, value))
    } catch (error) {
      setState({ kind: 'failed', message: errorMessage(error) })
    }
  }

  return (
    <form className="recent-rename" onSubmit={(event) => void onSubmit(event)}>
      <input
        aria-label="New title"
        placeholder="Untitled"
        autoFocus
        maxLength={200}
        value={value}
        aria-invalid={state.kind === 'failed'}
        aria-describedby={state.kind === 'failed' ? errorId : undefined}
        onChange={(event) => setValue(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault()
            onDone(null)
          }
        }}
      />
      <button type="submit" className="button button-small button-primary" disabled={state.kind === 'saving'}>
        {state.kind === 'saving' ? 'Saving…' : 'Save'}
      </button>
      <button type="button" className="button button-small" onClick={() => onDone(null)}>
        Cancel
      </button>
      {state.kind === 'failed' && (
        <p id={errorId} className="error" role="alert">
          Could not rename: {state.message}
        </p>
      )}
    </form>
  )
}

/** A 404 for a document the list holds: deleted, by someone here or elsewhere (R55). */
function isGone(watch: DocWatch): boolean {
  return watch.kind === 'stopped' && watch.error.reason?.code === CLOSE_REASONS.docNotFound.code
}

function titleOf(doc: RememberedDoc, heard: Heard | undefined): string {
  const title = heard?.title ?? doc.title ?? ''
  return title === '' ? 'Untitled' : title
}

function matches(doc: RememberedDoc, heard: Heard | undefined, needle: string): boolean {
  const haystack = [heard?.title ?? doc.title ?? '', doc.preview ?? '', doc.docId]
  return haystack.some((text) => text.toLocaleLowerCase().includes(needle))
}

/** Editing wins over viewing when this browser holds both. */
export function openPathOf(doc: RememberedDoc | null): string | null {
  if (doc?.editToken != null) return documentPath('edit', doc.docId, doc.editToken)
  if (doc?.viewToken != null) return documentPath('view', doc.docId, doc.viewToken)
  return null
}
