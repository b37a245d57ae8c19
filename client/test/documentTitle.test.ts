import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { documentTitle } from '../src/editor/documentTitle.ts'

/** A block as y-prosemirror stores it: an element named after the node, holding text or blocks. */
function element(name: string, children: Array<Y.XmlElement | Y.XmlText>): Y.XmlElement {
  const node = new Y.XmlElement(name)
  node.insert(0, children)
  return node
}

function text(value: string, format?: Record<string, unknown>): Y.XmlText {
  const node = new Y.XmlText()
  node.insert(0, value, format)
  return node
}

function fragmentOf(...blocks: Y.XmlElement[]): Y.XmlFragment {
  const fragment = new Y.Doc().getXmlFragment('default')
  fragment.insert(0, blocks)
  return fragment
}

describe('documentTitle', () => {
  it('is null for a blank document', () => {
    expect(documentTitle(fragmentOf())).toBeNull()
    expect(documentTitle(fragmentOf(element('paragraph', [])))).toBeNull()
  })

  it('is the first non-blank block, formatting and embeds left out', () => {
    const fragment = fragmentOf(
      element('paragraph', [text('   ')]),
      element('heading', [text('Trip '), text('plan', { bold: true }), element('hardBreak', [])]),
      element('paragraph', [text('second line')]),
    )
    expect(documentTitle(fragment)).toBe('Trip plan')
  })

  it('looks inside lists and quotes', () => {
    const list = element('bulletList', [element('listItem', [element('paragraph', [text('milk')])])])
    expect(documentTitle(fragmentOf(list))).toBe('milk')
  })
})
