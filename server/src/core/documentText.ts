import { DOC_FRAGMENT } from '@tandem/shared'
import * as Y from 'yjs'

/**
 * Plain text of the Tiptap document: one line per text block (paragraph, heading, list item's
 * paragraph, code block), in document order. ProseMirror nodes hold either inline content or
 * blocks, never both, so a node with any text child is one line.
 */
export function documentText(doc: Y.Doc): string {
  return blockLines(doc.getXmlFragment(DOC_FRAGMENT)).join('\n')
}

function blockLines(node: Y.XmlFragment | Y.XmlElement): string[] {
  const children = node.toArray()
  // The fragment is the doc node, which holds blocks only: text a hostile client put there is
  // skipped, as the exports skip it (R54), rather than turning the whole document into one line.
  if (!(node instanceof Y.XmlElement)) return blockChildren(children)
  const isTextBlock = children.some((child) => child instanceof Y.XmlText)
  if (isTextBlock || children.length === 0) {
    return [children.map(inlineText).join('')]
  }
  return blockChildren(children)
}

function blockChildren(children: ReadonlyArray<Y.XmlElement | Y.XmlText | Y.XmlHook>): string[] {
  return children.flatMap((child) => (child instanceof Y.XmlElement ? blockLines(child) : []))
}

function inlineText(node: Y.XmlElement | Y.XmlText | Y.XmlHook): string {
  if (node instanceof Y.XmlText) {
    return (node.toDelta() as Array<{ insert: unknown }>)
      .map((op) => (typeof op.insert === 'string' ? op.insert : ''))
      .join('')
  }
  if (node instanceof Y.XmlElement && node.nodeName === 'hardBreak') return '\n'
  return ''
}
