import { DOC_FRAGMENT } from '@tandem/shared'
import { getSchema } from '@tiptap/core'
import { prosemirrorJSONToYXmlFragment } from '@tiptap/y-tiptap'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { editorExtensions } from '../../src/export/DocumentExporter.ts'
import { ExportScanner } from '../exportScan.ts'
import {
  createDoc,
  eventually,
  ourClient,
  stockClient,
  whenStockSynced,
  type CreatedDoc,
} from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

/** What an editor produces: a heading, bold/italic/link marks, a bullet list and an ordered list. */
const CONTENT = {
  type: 'doc',
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Release notes' }] },
    {
      type: 'paragraph',
      content: [
        { type: 'text', text: 'Bold', marks: [{ type: 'bold' }] },
        { type: 'text', text: ', ' },
        { type: 'text', text: 'italic', marks: [{ type: 'italic' }] },
        { type: 'text', text: ' and ' },
        { type: 'text', text: 'a link', marks: [{ type: 'link', attrs: { href: 'https://example.com/' } }] },
        { type: 'text', text: ' & <tags>' },
      ],
    },
    {
      type: 'bulletList',
      content: ['apples', 'pears'].map((item) => ({
        type: 'listItem',
        content: [{ type: 'paragraph', content: [{ type: 'text', text: item }] }],
      })),
    },
    { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Steps' }] },
    {
      type: 'orderedList',
      attrs: { start: 1 },
      content: ['first', 'second'].map((item) => ({
        type: 'listItem',
        content: [{ type: 'paragraph', content: [{ type: 'text', text: item }] }],
      })),
    },
  ],
}

/** A document written by a real client the way the editor writes it (y-tiptap over the schema). */
async function documentWithContent(): Promise<{ server: TestServer; doc: CreatedDoc; editorDoc: Y.Doc }> {
  const server = await startTestServer({ ADMIN_API_KEY: 'admin-key-0123456789abcdef' })
  const doc = await createDoc(server.url)
  const editor = ourClient(server.url, doc.id, doc.editToken)
  await editor.whenSynced()
  prosemirrorJSONToYXmlFragment(
    getSchema(editorExtensions()),
    CONTENT,
    editor.doc.getXmlFragment(DOC_FRAGMENT),
  )
  await eventually(() => expect(editor.status.save).toBe('saved'))
  return { server, doc, editorDoc: editor.doc }
}

describe('content exports', () => {
  it('[R54] Tiptap JSON, HTML, Markdown and plain text of headings, lists and marks', async () => {
    const { server, doc } = await documentWithContent()
    const get = (query: string) =>
      fetch(`${server.url}/api/docs/${doc.id}/content?k=${doc.viewToken}${query}`)

    const json = await get('&format=json')
    expect(json.status).toBe(200)
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8')
    // Tiptap JSON carries every attribute, defaults included (link rel and target, list type).
    expect(await json.json()).toMatchObject(CONTENT)

    const html = await get('&format=html')
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'")
    const htmlBody = await html.text()
    expect(htmlBody).toContain('<h1>Release notes</h1>')
    expect(htmlBody).toContain('<strong>Bold</strong>, <em>italic</em> and ')
    expect(htmlBody).toMatch(/<a [^>]*href="https:\/\/example\.com\/"[^>]*>a link<\/a>/)
    expect(htmlBody).toContain(' &amp; &lt;tags&gt;')
    expect(htmlBody).toContain('<ul><li><p>apples</p></li><li><p>pears</p></li></ul>')
    expect(htmlBody).toContain('<h2>Steps</h2>')
    expect(htmlBody).toContain('<ol><li><p>first</p></li><li><p>second</p></li></ol>')

    const markdown = await get('&format=markdown')
    expect(markdown.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    const md = await markdown.text()
    expect(md).toContain('# Release notes\n')
    expect(md).toContain('**Bold**, *italic* and [a link](https://example.com/)')
    expect(md).toContain('- apples\n- pears')
    expect(md).toContain('## Steps')
    expect(md).toContain('1. first\n2. second')

    const plain = await get('&format=text')
    expect(plain.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(await plain.text()).toBe(
      [
        'Release notes',
        'Bold, italic and a link & <tags>',
        'apples',
        'pears',
        'Steps',
        'first',
        'second',
      ].join('\n'),
    )
  })

  it('[R54] negotiates the format from Accept; format= wins; unknown formats are refused', async () => {
    const { server, doc } = await documentWithContent()
    const url = `${server.url}/api/docs/${doc.id}/content`
    const typeFor = async (accept: string | null, query = ''): Promise<string | null> => {
      const response = await fetch(`${url}${query}`, {
        headers: { authorization: `Bearer ${doc.editToken}`, ...(accept ? { accept } : {}) },
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('vary')).toBe('Accept')
      return response.headers.get('content-type')
    }
    expect(await typeFor('text/markdown')).toBe('text/markdown; charset=utf-8')
    expect(await typeFor('text/html,application/xhtml+xml;q=0.9,*/*;q=0.8')).toBe('text/html; charset=utf-8')
    expect(await typeFor('text/plain;q=0.5, text/markdown;q=0.9')).toBe('text/markdown; charset=utf-8')
    expect(await typeFor('text/*')).toBe('text/html; charset=utf-8')
    expect(await typeFor(null)).toBe('application/json; charset=utf-8')
    expect(await typeFor('image/png')).toBe('application/json; charset=utf-8')
    expect(await typeFor('text/html', '?format=md')).toBe('text/markdown; charset=utf-8')
    const unknown = await fetch(`${url}?format=docx`, {
      headers: { authorization: `Bearer ${doc.editToken}` },
    })
    expect(unknown.status).toBe(400)
  })

  it('[R54][R17] exports need a token of the document (or the admin key)', async () => {
    const { server, doc } = await documentWithContent()
    const other = await createDoc(server.url)
    const status = async (query: string, headers: Record<string, string> = {}) =>
      (await fetch(`${server.url}/api/docs/${doc.id}/content${query}`, { headers })).status
    expect(await status('')).toBe(401)
    expect(await status(`?k=${other.viewToken}`)).toBe(403)
    expect(await status(`?k=${doc.viewToken}`)).toBe(200)
    expect(await status('', { authorization: 'Bearer admin-key-0123456789abcdef' })).toBe(200)
    expect((await fetch(`${server.url}/api/docs/nope12345678/content?k=${doc.viewToken}`)).status).toBe(404)
  })

  it('[R54][R20] an export never changes the document, even one holding nodes the schema rejects', async () => {
    const { server, doc, editorDoc } = await documentWithContent()
    const meta = async () =>
      (
        (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
          version: number
        }
      ).version
    // The content is saved (documentWithContent waited), so this version holds until the next edit.
    const saved = await meta()
    // A hostile or newer client wrote an element the editor's schema does not know.
    editorDoc.getXmlFragment(DOC_FRAGMENT).insert(0, [new Y.XmlElement('script')])
    // Its one update is durable before `before` is read: a later landing would look like the
    // export changing the document.
    await eventually(async () => expect(await meta()).toBe(saved + 1))
    const before = await meta()
    await eventually(async () => {
      const html = await (
        await fetch(`${server.url}/api/docs/${doc.id}/content?format=html&k=${doc.viewToken}`)
      ).text()
      expect(html).toContain('<h1>Release notes</h1>')
      expect(html).not.toContain('script')
    })
    expect(await meta()).toBe(before)
    expect(editorDoc.getXmlFragment(DOC_FRAGMENT).get(0)).toBeInstanceOf(Y.XmlElement)
    expect((editorDoc.getXmlFragment(DOC_FRAGMENT).get(0) as Y.XmlElement).nodeName).toBe('script')
  })

  it('[R54] a top-level text node a hostile editor wrote does not break exports', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('kept paragraph')])
    editor.doc.getXmlFragment(DOC_FRAGMENT).insert(0, [new Y.XmlText('x'), paragraph])
    const get = (format: string) =>
      fetch(`${server.url}/api/docs/${doc.id}/content?format=${format}&k=${doc.viewToken}`)
    await eventually(async () => expect(await (await get('text')).text()).toContain('kept paragraph'))
    for (const format of ['json', 'html', 'markdown', 'text']) {
      const response = await get(format)
      expect(response.status, format).toBe(200)
      expect(await response.text(), format).toContain('kept paragraph')
    }
  })

  it('[R54] HTML and Markdown exports drop script URLs (javascript:, data:) from links', async () => {
    const { server, doc, editorDoc } = await documentWithContent()
    const paragraph = new Y.XmlElement('paragraph')
    const linked = new Y.XmlText()
    linked.insert(0, 'click me', { link: { href: 'javascript:alert(document.cookie)' } })
    linked.insert(8, ' or me', { link: { href: 'data:text/html,<script>alert(1)</script>' } })
    paragraph.insert(0, [linked])
    editorDoc.getXmlFragment(DOC_FRAGMENT).insert(0, [paragraph])
    const get = async (format: string) =>
      (await fetch(`${server.url}/api/docs/${doc.id}/content?format=${format}&k=${doc.viewToken}`)).text()
    await eventually(async () => {
      const html = await get('html')
      // Both lose their target (href=""); with equal attributes the two links render as one.
      expect(html).toContain('href="">click me or me</a>')
      expect(html).not.toContain('javascript:')
      expect(html).not.toContain('data:')
    })
    const md = await get('markdown')
    expect(md).toContain('click me or me')
    expect(md).not.toContain('javascript:')
    expect(md).not.toContain('data:')
    // Allowed links are kept.
    expect(md).toContain('[a link](https://example.com/)')
  })

  describe('a stock client planting script links (issue 13)', () => {
    const scanner = new ExportScanner()
    afterAll(() => scanner.close())

    /** A paragraph of links a stock client writes, and the Markdown and HTML exports once they land. */
    async function exportsOf(links: readonly { text: string; href: string; title?: string }[]) {
      const server = await startTestServer()
      const doc = await createDoc(server.url)
      const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
      await whenStockSynced(editor)
      const paragraph = new Y.XmlElement('paragraph')
      const text = new Y.XmlText()
      paragraph.insert(0, [text])
      editor.doc.getXmlFragment(DOC_FRAGMENT).insert(0, [paragraph])
      for (const { text: linkText, href, title } of links) {
        text.insert(text.length, linkText, { link: { href, ...(title ? { title } : {}) } })
        text.insert(text.length, ' ', { link: null })
      }
      const get = async (format: string) =>
        (await fetch(`${server.url}/api/docs/${doc.id}/content?format=${format}&k=${doc.viewToken}`)).text()
      const last = links.at(-1)?.text ?? ''
      await eventually(async () => expect(await get('text')).toContain(last))
      return { markdown: await get('markdown'), html: await get('html') }
    }

    it('[R54] encoded script schemes and a `)` in a target plant no live link in either export', async () => {
      const { markdown, html } = await exportsOf([
        { text: 'eight', href: '&#106;avascript:alert(8)' },
        { text: 'nine', href: 'javascript&colon;alert(9)' },
        { text: 'ten', href: 'https://ok.example/)[y](javascript:alert(10)' },
      ])
      // Rendered by a real Markdown renderer and parsed by a real HTML parser, nothing runs script.
      expect(scanner.hazardsInMarkdown(markdown), markdown).toEqual([])
      expect(scanner.hazardsInHtml(html), html).toEqual([])
      // Every text is kept; the two script URLs lose their target, the https one is one link to its
      // whole target (percent-encoded by the renderer), not a link plus a planted one.
      const rendered = scanner.renderMarkdown(markdown)
      expect(scanner.anchors(rendered)).toEqual([{ text: 'ten', href: expect.any(String) as string }])
      const [kept] = scanner.anchors(rendered)
      expect(decodeURIComponent(kept?.href ?? '')).toBe('https://ok.example/)[y](javascript:alert(10)')
      expect(rendered).toContain('eight nine')
      expect(scanner.anchors(html).map((anchor) => [anchor.text, anchor.href])).toEqual([
        ['eight', ''],
        ['nine', ''],
        ['ten', 'https://ok.example/)[y](javascript:alert(10)'],
      ])
    })

    it('[R54] a title or link text holding Markdown stays text of the one link', async () => {
      const { markdown, html } = await exportsOf([
        {
          text: 'a](javascript:alert(1)) [b',
          href: 'https://ok.example/',
          title: 'x") [y](javascript:alert(2)',
        },
      ])
      expect(scanner.hazardsInMarkdown(markdown), markdown).toEqual([])
      expect(scanner.hazardsInHtml(html), html).toEqual([])
      expect(scanner.anchors(scanner.renderMarkdown(markdown))).toEqual([
        { text: 'a](javascript:alert(1)) [b', href: 'https://ok.example/' },
      ])
      expect(scanner.renderMarkdown(markdown)).toContain('title="x&quot;) [y](javascript:alert(2)"')
    })
  })
})
