import { DOC_TITLE, MAX_TITLE_LENGTH } from '@tandem/shared'
import type * as Y from 'yjs'

/**
 * The document's title (SPEC R60): its `title` Y.Text on one line — line breaks and other control
 * characters a stock client may have written become spaces, runs of spaces one — cut at
 * MAX_TITLE_LENGTH; '' when untitled. A `title` root a hostile client created as another type
 * (Yjs then refuses `getText`) reads as untitled rather than failing every route that shows it.
 */
export function documentTitle(doc: Y.Doc): string {
  let text: string
  try {
    text = doc.getText(DOC_TITLE).toString()
  } catch {
    return ''
  }
  return normalizeTitle(text)
}

/** One line, trimmed, at most MAX_TITLE_LENGTH UTF-16 units (a split pair is dropped). */
export function normalizeTitle(text: string): string {
  const line = titleLine(text)
  if (line.length <= MAX_TITLE_LENGTH) return line
  return line
    .slice(0, MAX_TITLE_LENGTH)
    .replace(/[\ud800-\udbff]$/, '')
    .trimEnd()
}

/** The title on one line, trimmed, uncut. */
export function titleLine(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/g, ' ')
      // A lone surrogate (half of a pair a client split) is not text; YAML and JSON readers refuse it.
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      .trim()
  )
}
