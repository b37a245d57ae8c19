import { DOC_TITLE, MAX_TITLE_LENGTH } from '@tandem/shared'
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react'
import type * as Y from 'yjs'

/**
 * The title's Y.Text binding (SPEC R60), kept apart from React so a unit test drives it. The title
 * is a Y.Text root beside the text, so two people typing in it at once both keep their letters.
 */

/** Our own title edits: the field already shows them, so its observer skips them. */
export const TITLE_FIELD_ORIGIN = Symbol('title field')

export function titleText(doc: Y.Doc): Y.Text {
  return doc.getText(DOC_TITLE)
}

/** One edit that turns `from` into `to`: the span between their common prefix and suffix. */
export interface TextEdit {
  readonly index: number
  readonly removed: number
  readonly inserted: string
}

export function minimalEdit(from: string, to: string): TextEdit | null {
  if (from === to) return null
  const shorter = Math.min(from.length, to.length)
  let prefix = 0
  while (prefix < shorter && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix++
  let suffix = 0
  while (
    suffix < shorter - prefix &&
    from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)
  )
    suffix++
  return {
    index: prefix,
    removed: from.length - prefix - suffix,
    inserted: to.slice(prefix, to.length - suffix),
  }
}

/**
 * Applies what the field now shows as the smallest delete + insert, in one transaction: replacing
 * the whole Y.Text would drop a letter someone else typed meanwhile. The diff is against the
 * Y.Text, not the field's previous value, so a title a stock client wrote with a line break (which
 * an <input> cannot show) is repaired by the next keystroke rather than diffed wrongly.
 */
export function applyFieldValue(text: Y.Text, value: string): void {
  const edit = minimalEdit(text.toString(), value.slice(0, MAX_TITLE_LENGTH))
  if (edit === null) return
  text.doc?.transact(() => {
    if (edit.removed > 0) text.delete(edit.index, edit.removed)
    if (edit.inserted !== '') text.insert(edit.index, edit.inserted)
  }, TITLE_FIELD_ORIGIN)
}

/** A Y.Text change as Yjs reports it (`YTextEvent.delta`). */
export type TextDelta = ReadonlyArray<{
  readonly insert?: string | object
  readonly delete?: number
  readonly retain?: number
}>

/**
 * Where a caret at `position` is after someone else's change: inserts before it push it right,
 * deletes before it pull it left, a delete around it puts it where the deleted span began. An
 * insert exactly at the caret goes after it. `position` and retain/delete counts are offsets in
 * the text before the change; inserted text takes no room there.
 */
export function mapPosition(position: number, delta: TextDelta): number {
  let index = 0
  let mapped = position
  for (const op of delta) {
    if (index > position) break
    if (op.retain !== undefined) index += op.retain
    else if (op.insert !== undefined) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1
      if (index < position) mapped += length
    } else if (op.delete !== undefined) {
      const end = index + op.delete
      mapped -= Math.max(0, Math.min(end, position) - index)
      index = end
    }
  }
  return Math.max(0, mapped)
}

/** The title as pages show it (tab, home list, dialogs): one line; '' while untitled. */
export function displayTitle(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim().slice(0, MAX_TITLE_LENGTH)
}

/** "My notes · Tandem", "Untitled · Tandem". */
export function tabTitle(title: string): string {
  return `${title === '' ? 'Untitled' : title} · Tandem`
}

/** The document's title, live: '' while untitled (R60). */
export function useDocumentTitle(doc: Y.Doc): string {
  const text = useMemo(() => titleText(doc), [doc])
  const subscribe = useCallback(
    (onChange: () => void) => {
      text.observe(onChange)
      return () => text.unobserve(onChange)
    },
    [text],
  )
  return displayTitle(useSyncExternalStore(subscribe, () => text.toString()))
}

/** The tab says "Title · Tandem" while the page shows the document (R60). */
export function useTabTitle(title: string): void {
  useEffect(() => {
    document.title = tabTitle(title)
  }, [title])
}
