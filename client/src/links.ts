import { MAX_TITLE_LENGTH as SHARED_MAX_TITLE_LENGTH, isValidDocId } from '@tandem/shared'
import type { LinkMode } from './route.ts'
import type { KeyValueStore } from './storage.ts'

/**
 * The documents this browser has opened, with the capability tokens it holds for them, so a bare
 * id or a reload without `?k=` still opens, and the home page can list them. Only tokens the
 * server has accepted (or just issued) are stored: a stale link must not overwrite a good one.
 */
export interface RememberedDoc {
  readonly docId: string
  readonly editToken: string | null
  readonly viewToken: string | null
  /** The document's title (R60) when last seen; null while untitled. */
  readonly title: string | null
  /** Its first line of text when last seen, shown beside "Untitled"; null while blank. */
  readonly preview?: string | null
  readonly openedAtMs: number
  /** When it last changed, as the server last said (R61 sorts by it); absent before it said. */
  readonly changedAtMs?: number
}

export interface DocUpdate {
  readonly editToken?: string
  readonly viewToken?: string
  readonly title?: string | null
  readonly preview?: string | null
}

const STORAGE_KEY = 'tandem.docs'
/** Oldest entries fall off, so the list (and the storage it takes) stays small. */
export const MAX_REMEMBERED_DOCS = 50
/** Titles and previews kept per entry: the longest title (R60); the list cuts them further. */
export const MAX_TITLE_LENGTH = SHARED_MAX_TITLE_LENGTH

/** Remembered documents, most recently opened first. Malformed entries are dropped. */
export function rememberedDocs(store: KeyValueStore): RememberedDoc[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(store.getItem(STORAGE_KEY) ?? '[]')
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  return parsed.flatMap((entry: unknown) => {
    const doc = toRememberedDoc(entry)
    return doc === null ? [] : [doc]
  })
}

export function rememberedDoc(store: KeyValueStore, docId: string): RememberedDoc | null {
  return rememberedDocs(store).find((doc) => doc.docId === docId) ?? null
}

export function tokenFor(store: KeyValueStore, docId: string, mode: LinkMode): string | null {
  const doc = rememberedDoc(store, docId)
  if (doc === null) return null
  return mode === 'edit' ? doc.editToken : doc.viewToken
}

/**
 * Records what we learned about `docId` and moves it to the top of the list. Links are issued in
 * pairs and a reset replaces both, so a new token of one kind retires the stored token of the
 * other kind unless the update brings that one too.
 */
export function rememberDoc(
  store: KeyValueStore,
  docId: string,
  update: DocUpdate,
  nowMs: number = Date.now(),
): RememberedDoc {
  const docs = rememberedDocs(store)
  const previous = docs.find((doc) => doc.docId === docId)
  const isNewEdit = update.editToken !== undefined && update.editToken !== previous?.editToken
  const isNewView = update.viewToken !== undefined && update.viewToken !== previous?.viewToken
  const keptEdit = isNewView && previous?.viewToken != null ? null : (previous?.editToken ?? null)
  const keptView = isNewEdit && previous?.editToken != null ? null : (previous?.viewToken ?? null)
  const next: RememberedDoc = {
    docId,
    editToken: update.editToken ?? keptEdit,
    viewToken: update.viewToken ?? keptView,
    title: update.title === undefined ? (previous?.title ?? null) : normalizeTitle(update.title),
    ...optionalFields(
      update.preview === undefined ? (previous?.preview ?? null) : normalizeTitle(update.preview),
      previous?.changedAtMs,
    ),
    openedAtMs: nowMs,
  }
  const rest = docs.filter((doc) => doc.docId !== docId)
  store.setItem(STORAGE_KEY, JSON.stringify([next, ...rest].slice(0, MAX_REMEMBERED_DOCS)))
  return next
}

/**
 * Records what the server said about a listed document — its title, when it last changed —
 * without moving it to the top: that order is for opening (R61).
 */
export function noteDocStatus(
  store: KeyValueStore,
  docId: string,
  status: { readonly title: string; readonly changedAtMs: number },
): void {
  const docs = rememberedDocs(store)
  const index = docs.findIndex((doc) => doc.docId === docId)
  const previous = docs[index]
  if (previous === undefined) return
  const title = normalizeTitle(status.title)
  if (previous.title === title && previous.changedAtMs === status.changedAtMs) return
  docs[index] = { ...previous, title, changedAtMs: status.changedAtMs }
  store.setItem(STORAGE_KEY, JSON.stringify(docs))
}

/** Takes a document off this browser's list ("Remove from this list", or it was deleted). */
export function forgetDoc(store: KeyValueStore, docId: string): void {
  const docs = rememberedDocs(store)
  const rest = docs.filter((doc) => doc.docId !== docId)
  if (rest.length !== docs.length) store.setItem(STORAGE_KEY, JSON.stringify(rest))
}

/** Absent fields stay absent, so entries written before they existed compare equal. */
function optionalFields(
  preview: string | null,
  changedAtMs: number | undefined,
): { preview?: string | null; changedAtMs?: number } {
  return {
    ...(preview === null ? {} : { preview }),
    ...(changedAtMs === undefined ? {} : { changedAtMs }),
  }
}

function normalizeTitle(title: string | null): string | null {
  const line = title?.trim().replace(/\s+/g, ' ') ?? ''
  if (line === '') return null
  return line.length > MAX_TITLE_LENGTH ? `${line.slice(0, MAX_TITLE_LENGTH - 1)}…` : line
}

function toRememberedDoc(value: unknown): RememberedDoc | null {
  if (typeof value !== 'object' || value === null) return null
  const { docId, editToken, viewToken, title, preview, openedAtMs, changedAtMs } = value as Record<
    string,
    unknown
  >
  if (typeof docId !== 'string' || !isValidDocId(docId)) return null
  const edit = nonEmptyString(editToken)
  const view = nonEmptyString(viewToken)
  if (edit === null && view === null) return null
  return {
    docId,
    editToken: edit,
    viewToken: view,
    title: nonEmptyString(title),
    ...optionalFields(nonEmptyString(preview), isTime(changedAtMs) ? changedAtMs : undefined),
    openedAtMs: isTime(openedAtMs) ? openedAtMs : 0,
  }
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

const NOTICE_KEY = 'tandem.notice'

/** Tells the home page, once, that a document was deleted from its own page (R61). */
export function noteDeleted(store: KeyValueStore, title: string): void {
  store.setItem(NOTICE_KEY, `“${title === '' ? 'Untitled' : title}” was deleted.`)
}

/** The message left for the home page, if any; it is shown once. */
export function takeNotice(store: KeyValueStore): string | null {
  const notice = store.getItem(NOTICE_KEY)
  if (notice === null || notice === '') return null
  store.setItem(NOTICE_KEY, '')
  return notice
}
