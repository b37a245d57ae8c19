import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentExporter } from '../src/export/DocumentExporter.ts'
import { ExportScanner, hasScriptScheme } from './exportScan.ts'

/**
 * Property: whatever a stock client writes into links, link titles, link text and code, neither
 * the Markdown export (rendered by marked) nor the HTML export (parsed by happy-dom) holds anything
 * a browser could run (SPEC R54, issue 13). The seed is the run's (vitest.setup.ts: fixed so a
 * failure replays; FUZZ_SEED changes it); FUZZ_RUNS runs it longer, for a soak.
 */

const SEED = fc.readConfigureGlobal().seed
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

// ---------------------------------------------------------------------------------------------
// Hostile strings
// ---------------------------------------------------------------------------------------------

/** Characters a browser or renderer strips or skips, raw and encoded. */
const invisible = fc.constantFrom(
  ...['\t', '\n', '\r', '\u0000', '\u0001', '\u001f', ' ', '\u00a0', '\u200b', '\u2060', '\ufeff', '\u00ad'],
  ...[
    '&Tab;',
    '&NewLine;',
    '&#9;',
    '&#x0A;',
    '&#13',
    '%09',
    '%0a',
    '%0D',
    '%00',
    '&nbsp;',
    '&ZeroWidthSpace;',
  ],
)

/** One character of a scheme, possibly encoded the ways an HTML parser or a Markdown renderer decodes. */
function encodedChar(char: string): fc.Arbitrary<string> {
  const code = char.charCodeAt(0)
  const hex = code.toString(16)
  return fc.constantFrom(
    char,
    char.toUpperCase(),
    `&#${code};`,
    `&#${code}`,
    `&#000${code};`,
    `&#x${hex};`,
    `&#X${hex.toUpperCase()}`,
    `%${hex}`,
    `%${hex.toUpperCase()}`,
    `&amp;#${code};`,
  )
}

/** A scheme spelt with encoded characters and invisible ones in between. */
function obfuscated(word: string): fc.Arbitrary<string> {
  return fc
    .tuple(...[...word].map((char) => fc.tuple(encodedChar(char), fc.option(invisible, { freq: 4 }))))
    .map((parts) => parts.map(([char, junk]) => char + (junk ?? '')).join(''))
}

const colon = fc.constantFrom(
  ':',
  '&colon;',
  '&#58;',
  '&#x3a;',
  '&#x3A',
  '%3a',
  '%3A',
  '&amp;colon;',
  '&COLON;',
)

/** Text that ends Markdown constructs early or opens new ones. */
const breakout = fc.constantFrom(
  ')[y](javascript:alert(1))',
  '](javascript:alert(2))',
  ')](javascript:alert(3))',
  '<javascript:alert(4)>',
  '"onmouseover="alert(5)',
  '" onclick="alert(6)',
  '\n\n[z](javascript:alert(7))',
  ' "t") [w](javascript:alert(8))',
  '%29[v](javascript:alert(9))',
  '\\)[u](javascript:alert(10))',
  '`[c](javascript:alert(11))`',
  '```\n[f](javascript:alert(12))\n```',
  '|[p](javascript:alert(13))|',
  '\n-|-\n`[t](javascript:alert(14))|`',
  '\n:-\n`[s](javascript:alert(15))|`',
  '<img src=x onerror=alert(16)>',
  '[r]: javascript:alert(17)',
  '<a href="javascript:alert(18)">a</a>',
)

const hostileText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...'aj:()[]<>"\'`\\|-&#;%!*_~ \n\r\t.=/?'.split('')),
      breakout,
      fc.constantFrom(
        'javascript:',
        'data:',
        'vbscript:',
        'https://ok.example/',
        '&colon;',
        '&#106;',
        '```',
        ':-',
      ),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(''))

const payload = fc.oneof(
  fc.constantFrom(
    'alert(1)',
    'alert(document.cookie)',
    'text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    '',
  ),
  breakout,
  hostileText,
)

const href = fc.oneof(
  fc
    .tuple(
      fc.option(invisible, { freq: 3 }),
      fc
        .constantFrom('javascript', 'data', 'vbscript', 'https', 'mailto', 'tel', 'blob', 'file')
        .chain(obfuscated),
      colon,
      payload,
    )
    .map(([lead, scheme, separator, rest]) => (lead ?? '') + scheme + separator + rest),
  fc
    .tuple(fc.constantFrom('https://ok.example/', 'mailto:a@ok.example?', '/relative/', '#'), payload)
    .map(([base, rest]) => base + rest),
  hostileText,
  fc.constantFrom<unknown>(42, null, { href: 'javascript:alert(1)' }, ['javascript:alert(1)']),
)

// ---------------------------------------------------------------------------------------------
// Documents, written the way a stock client can: Y.XmlElements and formatted Y.XmlText
// ---------------------------------------------------------------------------------------------

type Inline =
  | { readonly kind: 'text'; readonly text: string; readonly marks: Readonly<Record<string, unknown>> }
  | { readonly kind: 'hardBreak' }

type Block =
  | { readonly kind: 'paragraph'; readonly inline: readonly Inline[] }
  | { readonly kind: 'heading'; readonly level: unknown; readonly inline: readonly Inline[] }
  | { readonly kind: 'codeBlock'; readonly text: string; readonly language: unknown }
  | {
      readonly kind: 'list'
      readonly name: string
      readonly attrs: Readonly<Record<string, unknown>>
      readonly items: readonly (readonly Block[])[]
    }
  | { readonly kind: 'blockquote'; readonly children: readonly Block[] }
  | { readonly kind: 'stray'; readonly name: string }

const linkMark = fc
  .record({
    href,
    title: fc.option(fc.oneof(hostileText, breakout, fc.constant(42)), { nil: undefined }),
  })
  .map(({ href: target, title }) => ({ href: target, ...(title === undefined ? {} : { title }) }))

const inline: fc.Arbitrary<Inline> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: hostileText,
      marks: fc.record(
        {
          link: linkMark,
          bold: fc.constant({}),
          italic: fc.constant({}),
          code: fc.constant({}),
          strike: fc.constant({}),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'hardBreak' as const }) },
)

const inlines = fc.array(inline, { minLength: 1, maxLength: 6 })
const paragraph = inlines.map((content): Block => ({ kind: 'paragraph', inline: content }))
const codeBlock = fc
  .record({
    text: hostileText,
    language: fc.oneof(fc.constant(null), fc.constantFrom('js', 'c++'), hostileText),
  })
  .map(({ text, language }): Block => ({ kind: 'codeBlock', text, language }))

const block: fc.Arbitrary<Block> = fc.letrec<{ block: Block }>((tie) => ({
  block: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: paragraph },
    { weight: 2, arbitrary: codeBlock },
    {
      weight: 1,
      arbitrary: fc
        .record({
          level: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom<unknown>(0, 7, '2', 1e9)),
          inline: inlines,
        })
        .map(({ level, inline: content }): Block => ({ kind: 'heading', level, inline: content })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          name: fc.constantFrom('bulletList', 'orderedList'),
          attrs: fc.record(
            {
              // Large enough that Tiptap's Roman numerals would swamp marked, small enough not to hang
              // the run if that came back (1e15 or Infinity would).
              start: fc.constantFrom<unknown>(1, 8, 10, 999_999_999, 1e8, -3, 'x', 2.5),
              type: fc.constantFrom<unknown>(null, '1', 'a', 'i', 'I'),
            },
            { requiredKeys: [] },
          ),
          items: fc.array(
            fc
              .tuple(paragraph, fc.array(tie('block'), { maxLength: 2 }))
              .map(([first, rest]) => [first, ...rest]),
            { minLength: 1, maxLength: 3 },
          ),
        })
        .map(({ name, attrs, items }): Block => ({ kind: 'list', name, attrs, items })),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(tie('block'), { minLength: 1, maxLength: 2 })
        .map((children): Block => ({ kind: 'blockquote', children })),
    },
    // What the editor never writes at the top level.
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('hardBreak', 'listItem', 'text')
        .map((name): Block => ({ kind: 'stray', name })),
    },
  ),
})).block

const documentSpec = fc.array(block, { minLength: 1, maxLength: 4 })

function yElement(
  name: string,
  children: (Y.XmlElement | Y.XmlText)[],
  attrs: Readonly<Record<string, unknown>> = {},
) {
  const element = new Y.XmlElement(name)
  // Yjs stores any JSON-encodable attribute value; its typings say string.
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value as string)
  element.insert(0, children)
  return element
}

function yInline(content: readonly Inline[]): (Y.XmlElement | Y.XmlText)[] {
  const children: (Y.XmlElement | Y.XmlText)[] = []
  let text: { readonly type: Y.XmlText; length: number } | null = null
  for (const item of content) {
    if (item.kind === 'hardBreak') {
      children.push(yElement('hardBreak', []))
      text = null
      continue
    }
    if (text === null) {
      text = { type: new Y.XmlText(), length: 0 }
      children.push(text.type)
    }
    // y-tiptap reads each formatting attribute as a mark with those attrs. (A Y.XmlText not yet in
    // a document cannot tell its length.)
    text.type.insert(text.length, item.text, { ...item.marks })
    text.length += item.text.length
  }
  return children
}

function yBlock(spec: Block): Y.XmlElement | Y.XmlText {
  switch (spec.kind) {
    case 'paragraph':
      return yElement('paragraph', yInline(spec.inline))
    case 'heading':
      return yElement('heading', yInline(spec.inline), { level: spec.level })
    case 'codeBlock': {
      const text = new Y.XmlText()
      text.insert(0, spec.text)
      return yElement('codeBlock', [text], spec.language === null ? {} : { language: spec.language })
    }
    case 'list':
      return yElement(
        spec.name,
        spec.items.map((item) => yElement('listItem', item.map(yBlock))),
        spec.attrs,
      )
    case 'blockquote':
      return yElement('blockquote', spec.children.map(yBlock))
    case 'stray': {
      if (spec.name === 'hardBreak') return yElement('hardBreak', [])
      if (spec.name === 'listItem')
        return yElement('listItem', [
          yBlock({ kind: 'paragraph', inline: [{ kind: 'text', text: 'x', marks: { code: {} } }] }),
        ])
      const text = new Y.XmlText()
      text.insert(0, '[s](javascript:alert(19))')
      return text
    }
  }
}

/** Content the way a stock client writes it: straight into the fragment y-tiptap reads. */
function hostileDocument(blocks: readonly Block[]): Y.Doc {
  const doc = new Y.Doc()
  doc.getXmlFragment('default').insert(0, blocks.map(yBlock))
  return doc
}

function linkDocument(text: string, target: unknown, title?: string): Y.Doc {
  return hostileDocument([
    {
      kind: 'paragraph',
      inline: [{ kind: 'text', text, marks: { link: { href: target, ...(title ? { title } : {}) } } }],
    },
  ])
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const exporter = new DocumentExporter()
const scanner = new ExportScanner()
afterAll(() => scanner.close())

function hazards(doc: Y.Doc): { markdown: string; html: string; hazards: string[] } {
  const markdown = exporter.render(doc, 'markdown')
  const html = exporter.render(doc, 'html')
  return {
    markdown,
    html,
    hazards: [
      ...scanner.hazardsInMarkdown(markdown).map((hazard) => `markdown: ${hazard}`),
      ...scanner.hazardsInHtml(html).map((hazard) => `html: ${hazard}`),
    ],
  }
}

/** The exports and what marked made of the Markdown, for a failure message. */
function explain(result: { markdown: string; html: string }): string {
  return [result.markdown, scanner.renderMarkdown(result.markdown), result.html].join('\n-----\n')
}

describe('[R54] exports hold nothing a browser could run', () => {
  it.each([
    ['an entity-encoded scheme', '&#106;avascript:alert(8)'],
    ['an entity-encoded colon', 'javascript&colon;alert(9)'],
    ['a `)` that ends the destination', 'https://ok.example/)[y](javascript:alert(10)'],
  ])('[R54] issue 13: %s', (_name, target) => {
    const result = hazards(linkDocument('click', target))
    expect(result.hazards, explain(result)).toEqual([])
    // The text stays; a kept target is one link, to the whole href.
    const anchors = scanner.anchors(scanner.renderMarkdown(result.markdown))
    expect(scanner.renderMarkdown(result.markdown)).toContain('click')
    for (const anchor of anchors) expect(anchor.text).toBe('click')
  })

  it('[R54] a title, a code span, a code block or a GFM table cannot end a link or code early', () => {
    const cases: Block[][] = [
      // A title's `"` and `)` end it and the link; what follows is live.
      [
        {
          kind: 'paragraph',
          inline: [
            {
              kind: 'text',
              text: 't',
              marks: { link: { href: 'https://ok.example/', title: 'x") [y](javascript:alert(1)' } },
            },
          ],
        },
      ],
      // A backtick inside inline code ends a one-backtick span.
      [
        {
          kind: 'paragraph',
          inline: [{ kind: 'text', text: 'x` [z](javascript:alert(2)) `y', marks: { code: {} } }],
        },
      ],
      // A fence inside a code block, and a language holding one.
      [{ kind: 'codeBlock', text: 'a\n```\n[z](javascript:alert(3))', language: 'js' }],
      [{ kind: 'codeBlock', text: '[z](javascript:alert(4))', language: 'a`b\n```' }],
      // A later line of the paragraph makes it a GFM table whose cells split the code span at `|`.
      [
        {
          kind: 'paragraph',
          inline: [
            { kind: 'text', text: 'a|b', marks: {} },
            { kind: 'hardBreak' },
            { kind: 'text', text: '-|-', marks: {} },
            { kind: 'hardBreak' },
            { kind: 'text', text: '[x](javascript:alert(5))|', marks: { code: {} } },
          ],
        },
      ],
      // A list marker Markdown does not know (`viii.`) turns an indented fence into paragraph text.
      [
        {
          kind: 'list',
          name: 'orderedList',
          attrs: { type: 'i', start: 8 },
          items: [
            [
              { kind: 'paragraph', inline: [{ kind: 'text', text: 'p', marks: {} }] },
              { kind: 'codeBlock', text: '[x](javascript:alert(6))', language: null },
            ],
          ],
        },
      ],
    ]
    for (const blocks of cases) {
      const result = hazards(hostileDocument(blocks))
      expect(result.hazards, explain(result)).toEqual([])
      expect(scanner.renderMarkdown(result.markdown)).toContain('javascript')
    }
  })

  it('[R54] kept links keep their whole target; a title and code read as written', () => {
    const target = 'https://ok.example/a b(c)<d>"e"`f`|g?x=1&y=&#106;'
    const doc = hostileDocument([
      {
        kind: 'paragraph',
        inline: [
          {
            kind: 'text',
            text: 'go',
            marks: { link: { href: `\t ${target}\n`, title: 'say "hi" & [bye]\n\nnow' } },
          },
          { kind: 'text', text: ' and ', marks: {} },
          { kind: 'text', text: '``a|b` ', marks: { code: {} } },
          { kind: 'text', text: ' and ', marks: {} },
          { kind: 'text', text: ' `x` ', marks: { code: {} } },
          { kind: 'text', text: ' and ', marks: {} },
          { kind: 'text', text: ' a b ', marks: { code: {} } },
        ],
      },
    ])
    const markdown = exporter.render(doc, 'markdown')
    const html = scanner.renderMarkdown(markdown)
    const [anchor] = scanner.anchors(html)
    // marked percent-encodes what it links; decoded, it is the whole target, trimmed as a browser would.
    expect(decodeURIComponent(anchor?.href ?? '')).toBe(target)
    expect(html).toContain('title="say &quot;hi&quot; &amp; [bye] now"')
    expect(scanner.decodeReferences(html)).toContain('<code>``a|b` </code>')
    expect(scanner.decodeReferences(html)).toContain('<code> `x` </code>')
    expect(html).toContain('<code> a b </code>')
  })

  it('[R54] list numbers and hrefs a stock client can write neither hold up nor break an export', () => {
    // Tiptap counts Roman numerals up one numeral at a time: at 1e10 that took seconds and wrote
    // ten million characters; at Infinity it never returned, holding the whole server.
    const list = hostileDocument([
      {
        kind: 'list',
        name: 'orderedList',
        attrs: { type: 'I', start: 1e10 },
        items: [[{ kind: 'paragraph', inline: [{ kind: 'text', text: 'x', marks: {} }] }]],
      },
    ])
    expect(exporter.render(list, 'markdown')).toBe('1. x')
    // A href that is not a string made the Link extension throw: every HTML export a 500.
    const numeric = linkDocument('n', 42)
    expect(exporter.render(numeric, 'html')).toContain('href="">n</a>')
    expect(exporter.render(numeric, 'markdown')).toBe('n')
  })

  it('[R54] the scanner sees what the issue saw: live links from the unfixed Markdown', () => {
    // The oracle must catch the three reproductions as Tiptap's serializer wrote them.
    for (const markdown of [
      '[a](&#106;avascript:alert(8))',
      '[b](javascript&colon;alert(9))',
      '[c](https://ok.example/)[y](javascript:alert(10))',
    ])
      expect(scanner.hazardsInMarkdown(markdown)).not.toEqual([])
    expect(hasScriptScheme('%6Aavascript:alert(1)')).toBe(true)
    expect(hasScriptScheme('https://ok.example/?next=javascript:alert(1)')).toBe(false)
  })

  it(
    `[R54] property: hostile links, titles, text and code export inert (seed ${SEED}, ${RUNS} runs)`,
    () => {
      console.info(`exportSafety: fast-check seed ${SEED}, ${RUNS} runs (FUZZ_SEED, FUZZ_RUNS to change)`)
      fc.assert(
        fc.property(documentSpec, (blocks) => {
          const result = hazards(hostileDocument(blocks))
          expect(result.hazards, explain(result)).toEqual([])
        }),
        { numRuns: RUNS },
      )
    },
    20_000 + RUNS * 50,
  )
})
