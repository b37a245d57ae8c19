import { DOC_FRAGMENT } from '@tandem/shared'
import { getSchema, type Extensions, type JSONContent } from '@tiptap/core'
import { isAllowedUri } from '@tiptap/extension-link'
import { generateHTML } from '@tiptap/html/server'
import { MarkdownManager } from '@tiptap/markdown'
import type { Schema } from '@tiptap/pm/model'
import { StarterKit } from '@tiptap/starter-kit'
import { yXmlFragmentToProseMirrorRootNode } from '@tiptap/y-tiptap'
import * as Y from 'yjs'
import { documentText } from '../core/documentText.ts'
import type { ExportFormat } from './formats.ts'

/**
 * The editor's schema: the same extensions as client/src/editor/CollaborativeEditor.tsx, minus
 * those that add no nodes or marks (Collaboration, CollaborationCaret). Change both together, or
 * exports drop what the editor shows.
 */
export function editorExtensions(): Extensions {
  return [StarterKit.configure({ undoRedo: false })]
}

/**
 * Renders a document the way the editor shows it (SPEC R54), with Tiptap's own serializers:
 * `generateHTML` for HTML, `@tiptap/markdown` for Markdown, ProseMirror's JSON for Tiptap JSON.
 */
export class DocumentExporter {
  readonly #extensions: Extensions
  readonly #schema: Schema
  readonly #markdown: MarkdownManager

  constructor(extensions: Extensions = editorExtensions()) {
    this.#extensions = extensions
    this.#schema = getSchema(extensions)
    this.#markdown = new MarkdownManager({ extensions })
  }

  /**
   * Tiptap JSON of the document. Converted from a copy: y-tiptap deletes elements the schema
   * rejects from the Y.Doc it reads, and an export (a viewer may ask for one) must never change
   * the live document (R20).
   */
  toJSON(doc: Y.Doc): JSONContent {
    const copy = new Y.Doc()
    try {
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
      const fragment = copy.getXmlFragment(DOC_FRAGMENT)
      // y-tiptap throws on a top-level child that is not an element (an XmlText a hostile client
      // wrote): one such child would make every export of the document a 500.
      copy.transact(() => {
        for (let index = fragment.length - 1; index >= 0; index--)
          if (!(fragment.get(index) instanceof Y.XmlElement)) fragment.delete(index, 1)
      })
      return yXmlFragmentToProseMirrorRootNode(fragment, this.#schema).toJSON() as JSONContent
    } finally {
      copy.destroy()
    }
  }

  render(doc: Y.Doc, format: ExportFormat): string {
    switch (format) {
      case 'json':
        return JSON.stringify(this.toJSON(doc))
      case 'html':
        return generateHTML(this.toJSON(doc), this.#extensions)
      case 'markdown':
        // generateHTML drops script URLs (javascript:, data:) through the Link extension's
        // renderHTML; the Markdown serializer writes any href, so such links lose their target
        // here and keep their text (R54).
        return this.#markdown.serialize(withoutScriptLinks(this.toJSON(doc)))
      case 'text':
        // The same lines as GET /api/docs/:id/text (R16).
        return documentText(doc)
    }
  }
}

/** The content with every link mark whose href the Link extension would not render removed. */
function withoutScriptLinks(node: JSONContent): JSONContent {
  const marks = node.marks?.filter(
    (mark) => mark.type !== 'link' || Boolean(isAllowedUri(String(mark.attrs?.href ?? ''))),
  )
  return {
    ...node,
    ...(marks ? { marks } : {}),
    ...(node.content ? { content: node.content.map(withoutScriptLinks) } : {}),
  }
}
