import { viewerCountText, viewerNamesText } from '../editor/viewers.ts'
import { changedAgoText, editorsText, refreshErrorText } from './docStatusText.ts'
import { knownOf, type DocWatch } from './docWatch.ts'

const CHANGED_AT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/**
 * One home page entry's live line: who is editing, how many watch, when it last changed (R27).
 * The entry owns the watch (its title and order come from it too, R61).
 */
export function DocLiveStatus({ watch }: { watch: DocWatch }) {
  const known = knownOf(watch)
  if (watch.kind === 'loading') {
    return <p className="doc-live muted">Checking who is here…</p>
  }
  return (
    <p className="doc-live" data-state={watch.kind}>
      {known !== null && (
        <>
          <span>
            Editing: <span data-testid="doc-editors">{editorsText(known.status.editorNames)}</span>
          </span>
          <span data-testid="doc-viewers" title={viewersTitle(known.status.viewerNames)}>
            {viewerCountText(known.status.viewers)}
          </span>
          <span>
            Last change:{' '}
            <time
              data-testid="doc-updated"
              dateTime={new Date(known.status.updatedAtMs).toISOString()}
              title={CHANGED_AT.format(known.status.updatedAtMs)}
            >
              {known.status.version === 0
                ? 'none yet'
                : changedAgoText(known.status.updatedAtMs, watch.checkedAtMs)}
            </time>
          </span>
        </>
      )}
      {(watch.kind === 'failing' || watch.kind === 'stopped') && (
        <span className="doc-live-error" data-testid="doc-error">
          {refreshErrorText(watch.error)}
        </span>
      )}
    </p>
  )
}

function viewersTitle(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined
  return `Viewing: ${viewerNamesText(names.map((name, clientId) => ({ clientId, name })))}`
}
