import { useEffect, useRef, useState, type FormEvent, type RefObject } from 'react'
import { restoreVersion, saveVersion, type VersionInfo } from '../../api.ts'
import { Dialog } from '../../ui/Dialog.tsx'
import { useVersions } from './useVersions.ts'
import { VersionView } from './VersionView.tsx'
import { authorsInWords, timeInWords, versionTitle } from './versionWords.ts'
import './history.css'

/** Longest version name the server keeps (server/src/persistence/VersionStore.ts). */
const MAX_VERSION_NAME_LENGTH = 100
export const HISTORY_PANEL_ID = 'history-panel'

interface Props {
  readonly docId: string
  /** The edit token of this page. */
  readonly token: string
  /** False while this page cannot write (refused, receive-only): no saving, no restoring. */
  readonly canEdit: boolean
  readonly onClose: () => void
}

type Notice = { readonly kind: 'ok' | 'error'; readonly text: string } | null

/**
 * The document's history beside its text (R62): versions newest first with when, what and who;
 * "Save version…"; a version opens read-only with "Restore this version". A restore is one change
 * everyone receives, and the server keeps what it replaced as "Before restore".
 */
export function HistoryPanel({ docId, token, canEdit, onClose }: Props) {
  const { state, refresh } = useVersions(docId, token)
  const [openVersion, setOpenVersion] = useState<VersionInfo | null>(null)
  const [dialog, setDialog] = useState<'save' | 'restore' | null>(null)
  const [notice, setNotice] = useState<Notice>(null)
  const nowMs = useNow()
  const versions = state.kind === 'loading' ? null : state.versions
  const panelRef = useRef<HTMLElement>(null)
  useFocusOnViewChange(panelRef, openVersion)

  const onSaved = (version: VersionInfo): void => {
    setDialog(null)
    setNotice({ kind: 'ok', text: `Saved “${version.name ?? ''}”.` })
    refresh()
  }

  const restore = async (version: VersionInfo): Promise<void> => {
    await restoreVersion(docId, token, version.id)
    setDialog(null)
    setOpenVersion(null)
    setNotice({
      kind: 'ok',
      text: `Restored “${versionTitle(version)}”. To undo, restore “Before restore”.`,
    })
    refresh()
  }

  return (
    <aside
      ref={panelRef}
      id={HISTORY_PANEL_ID}
      className="history-panel"
      data-viewing={openVersion !== null}
      aria-labelledby="history-title"
      data-testid="history-panel"
      onKeyDown={(event) => {
        if (event.key !== 'Escape' || dialog !== null) return
        event.stopPropagation()
        if (openVersion) setOpenVersion(null)
        else onClose()
      }}
    >
      <div className="history-head">
        <h2 id="history-title" tabIndex={-1}>
          {openVersion ? versionTitle(openVersion) : 'Version history'}
        </h2>
        <button type="button" className="button button-small" onClick={onClose} aria-label="Close history">
          Close
        </button>
      </div>
      {notice && (
        <p
          className={notice.kind === 'ok' ? 'notice' : 'error'}
          role={notice.kind === 'ok' ? 'status' : 'alert'}
        >
          {notice.text}
        </p>
      )}
      {openVersion ? (
        <>
          <p className="muted history-version-meta">
            <time dateTime={new Date(openVersion.createdAtMs).toISOString()}>
              {timeInWords(openVersion.createdAtMs, nowMs)}
            </time>
            {openVersion.authors.length > 0 && ` · ${authorsInWords(openVersion.authors)}`}
          </p>
          <div className="history-actions">
            {canEdit && (
              <button
                type="button"
                className="button button-primary button-small"
                aria-haspopup="dialog"
                onClick={() => setDialog('restore')}
              >
                Restore this version
              </button>
            )}
            <button type="button" className="button button-small" onClick={() => setOpenVersion(null)}>
              Back to all versions
            </button>
          </div>
          <VersionView docId={docId} token={token} version={openVersion} />
        </>
      ) : (
        <>
          {canEdit && (
            <div className="history-actions">
              <button
                type="button"
                className="button button-small"
                aria-haspopup="dialog"
                onClick={() => setDialog('save')}
              >
                Save version…
              </button>
            </div>
          )}
          {state.kind === 'loading' && (
            <p className="muted" role="status">
              Loading the history…
            </p>
          )}
          {state.kind === 'error' && (
            <p className="error" role="alert">
              The history could not be loaded: {state.message}.{' '}
              <button type="button" className="link-button" onClick={refresh}>
                Try again
              </button>
            </p>
          )}
          {versions !== null && versions.length === 0 && (
            <p className="muted">
              No versions yet. One is kept automatically after a pause in editing and when everyone leaves; or
              save one now.
            </p>
          )}
          {versions !== null && versions.length > 0 && (
            <ol className="history-list" aria-label="Versions, newest first">
              {versions.map((version) => (
                <li key={version.id}>
                  <button
                    type="button"
                    className="history-item"
                    data-testid="history-item"
                    data-version-id={version.id}
                    onClick={() => setOpenVersion(version)}
                  >
                    <span className="history-item-title" data-kind={version.name === null ? 'auto' : 'named'}>
                      {versionTitle(version)}
                    </span>
                    <time
                      className="history-item-time"
                      dateTime={new Date(version.createdAtMs).toISOString()}
                    >
                      {timeInWords(version.createdAtMs, nowMs)}
                    </time>
                    {version.authors.length > 0 && (
                      <span className="history-item-authors">{authorsInWords(version.authors)}</span>
                    )}
                  </button>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      {dialog === 'save' && (
        <SaveVersionDialog docId={docId} token={token} onSaved={onSaved} onCancel={() => setDialog(null)} />
      )}
      {dialog === 'restore' && openVersion && (
        <RestoreDialog
          version={openVersion}
          onRestore={() => restore(openVersion)}
          onCancel={() => setDialog(null)}
        />
      )}
    </aside>
  )
}

function SaveVersionDialog({
  docId,
  token,
  onSaved,
  onCancel,
}: {
  readonly docId: string
  readonly token: string
  readonly onSaved: (version: VersionInfo) => void
  readonly onCancel: () => void
}) {
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [isSaving, setIsSaving] = useState(false)

  const submit = (event: FormEvent): void => {
    event.preventDefault()
    const trimmed = name.trim()
    if (trimmed === '') {
      setError('Give the version a name.')
      return
    }
    setIsSaving(true)
    setError(null)
    saveVersion(docId, token, trimmed).then(onSaved, (failure: unknown) => {
      setIsSaving(false)
      setError(`The version was not saved: ${failure instanceof Error ? failure.message : 'unknown error'}.`)
    })
  }

  // No autoFocus: showModal() focuses the first field itself, after Dialog noted what to give focus
  // back to (React's autoFocus would run first and be taken for the opener).
  return (
    <Dialog labelledBy="save-version-title" onClose={onCancel} testId="save-version-dialog">
      <form className="dialog-form" onSubmit={submit} noValidate>
        <h2 id="save-version-title">Save version</h2>
        <p className="muted">The document as it is now, kept under a name until you no longer need it.</p>
        <label htmlFor="version-name">Version name</label>
        <input
          id="version-name"
          maxLength={MAX_VERSION_NAME_LENGTH}
          placeholder="e.g. Sent to review"
          value={name}
          aria-invalid={error !== null}
          aria-describedby={error === null ? undefined : 'version-name-error'}
          onChange={(event) => setName(event.target.value)}
        />
        {error !== null && (
          <p id="version-name-error" className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" className="button button-primary" disabled={isSaving}>
            {isSaving ? 'Saving…' : 'Save version'}
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}

function RestoreDialog({
  version,
  onRestore,
  onCancel,
}: {
  readonly version: VersionInfo
  readonly onRestore: () => Promise<void>
  readonly onCancel: () => void
}) {
  const [isRestoring, setIsRestoring] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const restore = (): void => {
    setIsRestoring(true)
    setError(null)
    onRestore().catch((failure: unknown) => {
      setIsRestoring(false)
      setError(`Nothing was changed: ${failure instanceof Error ? failure.message : 'unknown error'}.`)
    })
  }
  return (
    <Dialog labelledBy="restore-version-title" onClose={onCancel} testId="restore-version-dialog">
      <div className="dialog-form">
        <h2 id="restore-version-title">Restore this version?</h2>
        <p>
          The text and title become those of “{versionTitle(version)}”, for everyone in the document. The
          current state is kept as “Before restore”, so you can undo this by restoring it.
        </p>
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-primary" disabled={isRestoring} onClick={restore}>
            {isRestoring ? 'Restoring…' : 'Restore'}
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  )
}

/**
 * Where focus goes when the panel switches between the list and a version, since the control that
 * had it is gone: to the heading (which names the version) when one opens, back to its entry in
 * the list when it closes (also after a restore).
 */
function useFocusOnViewChange(
  panelRef: RefObject<HTMLElement | null>,
  openVersion: VersionInfo | null,
): void {
  const previous = useRef<VersionInfo | null>(null)
  useEffect(() => {
    const panel = panelRef.current
    const closed = previous.current
    previous.current = openVersion
    if (panel === null || openVersion === closed) return
    if (openVersion !== null) panel.querySelector<HTMLElement>('#history-title')?.focus()
    else if (closed !== null) panel.querySelector<HTMLElement>(`[data-version-id="${closed.id}"]`)?.focus()
  }, [panelRef, openVersion])
}

/** The time, updated every half minute, so "2 minutes ago" stays true while the panel is open. */
function useNow(): number {
  const [nowMs, setNowMs] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), 30_000)
    return () => clearInterval(timer)
  }, [])
  return nowMs
}
