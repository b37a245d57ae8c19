import { documentExtensions } from '@tandem/client/schema'
import { DOC_FRAGMENT } from '@tandem/shared'
import { getSchema, type Extensions, type JSONContent } from '@tiptap/core'
import { generateHTML } from '@tiptap/html/server'
import { MarkdownManager } from '@tiptap/markdown'
import type { Node as ProseMirrorNode, Schema } from '@tiptap/pm/model'
import { yXmlFragmentToProseMirrorRootNode } from '@tiptap/y-tiptap'
import * as Y from 'yjs'
import { documentText } from '../core/documentText.ts'
import { documentTitle } from '../core/documentTitle.ts'
import { conformToSchema } from './conformToSchema.ts'
import type { ExportFormat } from './formats.ts'
import { linkTarget } from './linkTargets.ts'
import { MARKDOWN_SAFETY_EXTENSIONS, markdownContent } from './markdownContent.ts'

/**
 * The editor's schema: the very extensions client/src/editor/CollaborativeEditor.tsx builds on
 * (`documentExtensions`, SPEC R59), so exports never drop what the editor shows.
 */
export function editorExtensions(): Extensions {
  return documentExtensions()
}

/**
 * Renders a document the way the editor shows it (SPEC R54), with Tiptap's own serializers:
 * `generateHTML` for HTML, `@tiptap/markdown` for Markdown, ProseMirror's JSON for Tiptap JSON.
 * Links keep only targets `linkTarget` allows, in HTML and Markdown alike; Markdown is written
 * through `markdownContent`, so nothing a client wrote can end a link or code early (issue 13).
 */
export class DocumentExporter {
  readonly #extensions: Extensions
  readonly #schema: Schema
  readonly #markdown: MarkdownManager

  constructor(extensions: Extensions = editorExtensions()) {
    this.#extensions = extensions
    this.#schema = getSchema(extensions)
    this.#markdown = new MarkdownManager({ extensions: [...extensions, ...MARKDOWN_SAFETY_EXTENSIONS] })
  }

  /** Tiptap JSON of the document, as the schema allows it (`conformToSchema`, R54). */
  toJSON(doc: Y.Doc): JSONContent {
    return this.#toNode(doc).toJSON() as JSONContent
  }

  /**
   * The title (R60) goes where each format keeps a name apart from the text, as Google Docs keeps a
   * document's name apart from its body: HTML is a whole page named by `<title>` ("Untitled" when
   * blank), Markdown opens with YAML front matter (`title:` as a JSON string, which is YAML's
   * double-quoted form, so no character of it can end the value or start Markdown) when there is
   * a title. JSON stays Tiptap's `{type: 'doc', …}`, which consumers feed to `setContent`, and
   * text stays the lines of `/text` (R16): neither has a place for a name that readers expect.
   */
  render(doc: Y.Doc, format: ExportFormat): string {
    switch (format) {
      case 'json':
        return JSON.stringify(this.toJSON(doc))
      case 'html':
        return htmlPage(documentTitle(doc), generateHTML(withLinkTargets(this.toJSON(doc)), this.#extensions))
      case 'markdown':
        return withFrontMatter(
          documentTitle(doc),
          this.#markdown.serialize(markdownContent(this.toJSON(doc))),
        )
      case 'text':
        // The same lines as GET /api/docs/:id/text (R16).
        return documentText(doc)
    }
  }

  /**
   * The document as a ProseMirror node. Converted from a copy: y-tiptap deletes elements the
   * schema rejects from the Y.Doc it reads, and an export (a viewer may ask for one) must never
   * change the live document (R20).
   */
  #toNode(doc: Y.Doc): ProseMirrorNode {
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
      return conformToSchema(yXmlFragmentToProseMirrorRootNode(fragment, this.#schema))
    } finally {
      copy.destroy()
    }
  }
}

/**
 * The content with every link's href replaced by the target it keeps (`linkTarget`, R54), or by
 * `''` when it loses it: the Link extension then renders `href=""`, as it does for the script
 * URLs it recognises itself, so HTML and Markdown decide alike (Markdown by `markdownContent`).
 * A href that is not a string (a stock client can write any JSON) would make the Link extension
 * throw, the export a 500.
 */
function withLinkTargets(node: JSONContent): JSONContent {
  const marks = node.marks?.map((mark) =>
    mark.type === 'link'
      ? { ...mark, attrs: { ...mark.attrs, href: linkTarget(mark.attrs?.href) ?? '' } }
      : mark,
  )
  return {
    ...node,
    ...(marks ? { marks } : {}),
    ...(node.content ? { content: node.content.map(withLinkTargets) } : {}),
  }
}

/** A whole HTML page: a browser opening the file shows the title in its tab (R60). */
function htmlPage(title: string, body: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<title>${escapeHtml(title === '' ? 'Untitled' : title)}</title></head><body>${body}</body></html>`
  )
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** YAML front matter naming the document, before its Markdown; none while it is untitled. */
function withFrontMatter(title: string, markdown: string): string {
  if (title === '') return markdown
  return `---\ntitle: ${JSON.stringify(title)}\n---\n\n${markdown}`
}
