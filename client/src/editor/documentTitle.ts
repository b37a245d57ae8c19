import { DOC_FRAGMENT } from '@tandem/shared'
import * as Y from 'yjs'
import { displayTitle, titleText } from './title.ts'

/** What the home list shows for a document (R60, R61). */
export interface Listing {
  /** The title (the `title` Y.Text); null while untitled. */
  readonly title: string | null
  /** The first line of text; null while blank. */
  readonly preview: string | null
}

/**
 * The first line is not a fallback title: the tab, the exports, the delete dialog and the file
 * names all say "Untitled" for an untitled document, and a list that named it differently would
 * leave people looking for a document by a name nothing else uses. It is kept as a muted preview
 * beside "Untitled", so several untitled documents can still be told apart.
 */
export function listingOf(doc: Y.Doc): Listing {
  const title = displayTitle(titleText(doc).toString())
  return { title: title === '' ? null : title, preview: documentTitle(doc.getXmlFragment(DOC_FRAGMENT)) }
}

/**
 * The document's first non-blank line of text (the home list's preview); null while the document
 * is blank. Reads the Yjs fragment directly, so it needs no editor: a paragraph or heading is an
 * element holding text, lists and quotes are elements holding elements.
 */
export function documentTitle(fragment: Y.XmlFragment): string | null {
  for (const line of textBlocks(fragment)) {
    if (line.trim() !== '') return line
  }
  return null
}

function* textBlocks(node: Y.XmlFragment | Y.XmlElement): Generator<string> {
  const children = node.toArray()
  if (children.some((child) => child instanceof Y.XmlText)) {
    yield children.map(inlineText).join('')
    return
  }
  for (const child of children) {
    if (child instanceof Y.XmlElement) yield* textBlocks(child)
  }
}

/** Text of an inline node; embeds (a hard break, an image) contribute nothing. */
function inlineText(node: Y.XmlElement | Y.XmlText | Y.XmlHook): string {
  if (!(node instanceof Y.XmlText)) return ''
  const delta: unknown = node.toDelta()
  if (!Array.isArray(delta)) return ''
  return delta
    .map((op: unknown) => {
      const insert: unknown =
        typeof op === 'object' && op !== null ? (op as { insert?: unknown }).insert : null
      return typeof insert === 'string' ? insert : ''
    })
    .join('')
}
