/**
 * Document ids are path segments and LevelDB key parts, so they are restricted to URL-safe
 * characters with a bounded length (SPEC R3): no `/`, `.`, `!` (our key separator) or `%`.
 */
export const MAX_DOC_ID_LENGTH = 64
const DOC_ID_PATTERN = /^[A-Za-z0-9_-]+$/

export function isValidDocId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_DOC_ID_LENGTH && DOC_ID_PATTERN.test(value)
}

/** The Y.XmlFragment Tiptap's Collaboration extension binds to; server text export reads it. */
export const DOC_FRAGMENT = 'default'

/**
 * The document's title: a Y.Text root beside the text, co-edited like it (SPEC R60). Empty means
 * "Untitled"; exports, the home list and webhook payloads read it from here.
 */
export const DOC_TITLE = 'title'

/** Longest title kept; longer input is cut at this many UTF-16 units by the editor (R60). */
export const MAX_TITLE_LENGTH = 200
