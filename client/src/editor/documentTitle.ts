import * as Y from 'yjs'

/**
 * The document's first non-blank line of text, for the home page's list of documents; null while
 * the document is blank. Reads the Yjs fragment directly, so it needs no editor: a paragraph or
 * heading is an element holding text, lists and quotes are elements holding elements.
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
