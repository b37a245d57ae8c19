import { documentExtensions } from '@tandem/client/schema'
import { getSchema } from '@tiptap/core'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentExporter, editorExtensions } from '../src/export/DocumentExporter.ts'
import { ExportScanner } from './exportScan.ts'

/**
 * Tables, task lists and images in exports (SPEC R59, R54): Markdown a GFM renderer (marked, the
 * oracle of exportSafety.test.ts) reads back as the same structure, and, whatever a stock client
 * writes into them, nothing a browser could run.
 */

type Child = Y.XmlElement | Y.XmlText

function element(name: string, children: Child[] = [], attrs: Readonly<Record<string, unknown>> = {}) {
  const node = new Y.XmlElement(name)
  // Yjs stores any JSON-encodable attribute value; its typings say string.
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value as string)
  node.insert(0, children)
  return node
}

function text(value: string, marks: Readonly<Record<string, unknown>> = {}): Y.XmlText {
  const node = new Y.XmlText()
  node.insert(0, value, { ...marks })
  return node
}

function paragraph(...children: Child[]): Y.XmlElement {
  return element('paragraph', children)
}

function cell(name: 'tableCell' | 'tableHeader', blocks: Y.XmlElement[], attrs = {}): Y.XmlElement {
  return element(name, blocks, attrs)
}

function table(rows: Y.XmlElement[][]): Y.XmlElement {
  return element(
    'table',
    rows.map((cells) => element('tableRow', cells)),
  )
}

function documentOf(...blocks: Y.XmlElement[]): Y.Doc {
  const doc = new Y.Doc()
  doc.getXmlFragment('default').insert(0, blocks)
  return doc
}

const exporter = new DocumentExporter()
const scanner = new ExportScanner()
afterAll(() => scanner.close())

function exports(doc: Y.Doc) {
  const markdown = exporter.render(doc, 'markdown')
  const html = exporter.render(doc, 'html')
  const rendered = scanner.renderMarkdown(markdown)
  return {
    markdown,
    html,
    rendered,
    hazards: [
      ...scanner.hazardsInMarkdown(markdown).map((hazard) => `markdown: ${hazard}`),
      ...scanner.hazardsInHtml(html).map((hazard) => `html: ${hazard}`),
    ],
  }
}

function explain(result: { markdown: string; rendered: string; html: string }): string {
  return [result.markdown, result.rendered, result.html].join('\n-----\n')
}

/** The text of each `th` or `td` in rendered HTML (tags dropped, references decoded). */
function cellsOf(html: string, tag: 'th' | 'td'): string[] {
  return [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) =>
    scanner.decodeReferences((match[1] ?? '').replace(/<[^>]*>/g, '')).trim(),
  )
}

describe('[R59] exports write tables, task lists and images', () => {
  it('[R59] the exporter renders over the editor schema itself', () => {
    const names = (extensions: ReturnType<typeof documentExtensions>) =>
      Object.keys(getSchema(extensions).nodes).concat(Object.keys(getSchema(extensions).marks))
    expect(names(editorExtensions())).toEqual(names(documentExtensions()))
    for (const name of [
      'table',
      'tableRow',
      'tableHeader',
      'tableCell',
      'taskList',
      'taskItem',
      'image',
      'link',
    ])
      expect(names(editorExtensions())).toContain(name)
  })

  it('[R59] a table is a GFM table: header row, body rows, a `|` stays in its cell', () => {
    const doc = documentOf(
      table([
        [cell('tableHeader', [paragraph(text('Name'))]), cell('tableHeader', [paragraph(text('Note'))])],
        [
          cell('tableCell', [paragraph(text('a|b'))]),
          cell('tableCell', [paragraph(text('bold', { bold: {} }))]),
        ],
        [
          cell('tableCell', [paragraph(text('two')), paragraph(text('lines'))]),
          cell('tableCell', [element('codeBlock', [text('x | y')])]),
        ],
      ]),
    )
    const result = exports(doc)
    expect(result.markdown).toBe(
      [
        '| Name | Note |',
        '| --- | --- |',
        '| a\\|b | **bold** |',
        '| two<br>lines | <code>x &#124; y</code> |',
      ].join('\n'),
    )
    expect(cellsOf(result.rendered, 'th')).toEqual(['Name', 'Note'])
    expect(cellsOf(result.rendered, 'td')).toEqual(['a|b', 'bold', 'twolines', 'x | y'])
    expect(result.rendered).toContain('<strong>bold</strong>')
    expect(result.html).toContain('<th colspan="1" rowspan="1"><p>Name</p></th>')
  })

  it('[R59] a table without a header row gets an empty one; ragged rows keep every cell', () => {
    const doc = documentOf(
      table([
        [cell('tableCell', [paragraph(text('1'))])],
        [cell('tableCell', [paragraph(text('2'))]), cell('tableCell', [paragraph(text('3'))])],
      ]),
    )
    const result = exports(doc)
    expect(result.markdown).toBe(['|  |  |', '| --- | --- |', '| 1 |', '| 2 | 3 |'].join('\n'))
    expect(cellsOf(result.rendered, 'td')).toEqual(['1', '', '2', '3'])
  })

  it('[R59] task lists are `- [ ]` and `- [x]`, nested ones indented', () => {
    const doc = documentOf(
      element('taskList', [
        element('taskItem', [paragraph(text('done'))], { checked: true }),
        element(
          'taskItem',
          [paragraph(text('open')), element('taskList', [element('taskItem', [paragraph(text('inner'))])])],
          { checked: false },
        ),
      ]),
    )
    const result = exports(doc)
    expect(result.markdown).toMatch(/^- \[x\] done\n- \[ \] open\n\s+- \[ \] inner$/)
    expect(result.rendered).toContain('checked')
    expect(result.html).toContain('data-type="taskList"')
  })

  it('[R59] an image keeps an http(s) source; any other source is dropped in Markdown and HTML', () => {
    const kept = exports(
      documentOf(element('image', [], { src: 'https://ok.example/a b.png', alt: 'A [cat]', title: 'Cat' })),
    )
    expect(kept.markdown).toBe('![A &#91;cat&#93;](https://ok.example/a%20b.png "Cat")')
    expect(scanner.decodeReferences(kept.rendered)).toContain(
      '<img src="https://ok.example/a%20b.png" alt="A [cat]" title="Cat">',
    )
    expect(kept.html).toContain('<img src="https://ok.example/a%20b.png" alt="A [cat]" title="Cat">')

    for (const src of [
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      '/relative.png',
      'ja\tvascript:x',
      42,
    ]) {
      const result = exports(documentOf(element('image', [], { src, alt: 'alt' })))
      expect(result.hazards, explain(result)).toEqual([])
      expect(result.markdown).toBe('alt')
      expect(result.html).toContain('<img alt="alt">')
    }
  })

  it('[R59] a cell span a stock client made huge leaves that cell out instead of holding up the export', () => {
    const doc = documentOf(
      table([
        [
          cell('tableCell', [paragraph(text('kept'))]),
          cell('tableCell', [paragraph(text('huge'))], { colspan: 1e9 }),
          cell('tableCell', [paragraph(text('wide'))], { colwidth: [1e12] }),
        ],
      ]),
    )
    const started = performance.now()
    const result = exports(doc)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(result.markdown).toContain('kept')
    expect(result.markdown).not.toContain('huge')
    expect(result.markdown).not.toContain('wide')
  })
})

// ---------------------------------------------------------------------------------------------
// Property: hostile content in cells and images exports inert
// ---------------------------------------------------------------------------------------------

/** The run's seed (vitest.setup.ts; FUZZ_SEED changes it); FUZZ_RUNS runs it longer. */
const SEED = fc.readConfigureGlobal().seed
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)

const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(...'aj:()[]<>"\'`\\|-&#;%!*_~ \n\r\t.=/?'.split('')),
      fc.constantFrom(
        ')[y](javascript:alert(1))',
        '|[p](javascript:alert(2))|',
        '\n-|-\n`[t](javascript:alert(3))|`',
        '<img src=x onerror=alert(4)>',
        '```\n[f](javascript:alert(5))\n```',
        '\\|[q](javascript:alert(6))',
        '![i](javascript:alert(7))',
        'javascript:',
        'data:',
        '&#106;',
        '&#124;',
      ),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''))

const href = fc.oneof(
  hostile,
  fc.constantFrom('javascript:alert(1)', 'https://ok.example/', 'data:text/html,x', '&#106;avascript:x'),
  hostile.map((rest) => `https://ok.example/${rest}`),
)

const inlineText = fc
  .tuple(
    hostile,
    fc.record(
      { code: fc.constant({}), bold: fc.constant({}), link: href.map((target) => ({ href: target })) },
      { requiredKeys: [] },
    ),
  )
  .map(([value, marks]) => text(value, marks))

const cellBlock: fc.Arbitrary<() => Y.XmlElement> = fc.oneof(
  fc
    .array(inlineText, { minLength: 1, maxLength: 3 })
    .map((children) => () => element('paragraph', children)),
  hostile.map((value) => () => element('codeBlock', [text(value)])),
  fc
    .record({ src: fc.oneof(href, hostile), alt: hostile, title: fc.option(hostile, { nil: undefined }) })
    .map((attrs) => () => element('image', [], attrs)),
  fc.tuple(hostile, fc.boolean()).map(
    ([value, checked]) =>
      () =>
        element('taskList', [element('taskItem', [paragraph(text(value))], { checked })]),
  ),
)

const hostileTable = fc
  .array(
    fc.array(fc.tuple(fc.boolean(), fc.array(cellBlock, { minLength: 1, maxLength: 2 })), {
      minLength: 1,
      maxLength: 3,
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map(
    (rows) => () =>
      table(
        rows.map((cells) =>
          cells.map(([isHeader, blocks]) =>
            cell(
              isHeader ? 'tableHeader' : 'tableCell',
              blocks.map((make) => make()),
            ),
          ),
        ),
      ),
  )

/** Where a block sits: the top level, a quote, a list item or a task item (each indents or prefixes). */
const nesting = fc.constantFrom<(block: Y.XmlElement) => Y.XmlElement>(
  (block) => block,
  (block) => element('blockquote', [block]),
  (block) => element('bulletList', [element('listItem', [paragraph(text('item|-|')), block])]),
  (block) => element('orderedList', [element('listItem', [paragraph(text('1.')), block])], { start: 3 }),
  (block) => element('taskList', [element('taskItem', [paragraph(text('task')), block], { checked: true })]),
)

describe('[R59] hostile tables, task lists and images export inert', () => {
  it(
    `[R59] property: nothing in a cell, an image or a task item ends its construct early (seed ${SEED}, ${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.oneof(hostileTable, cellBlock), nesting).map(
              ([make, wrap]) =>
                () =>
                  wrap(make()),
            ),
            { minLength: 1, maxLength: 3 },
          ),
          (blocks) => {
            const result = exports(documentOf(...blocks.map((make) => make())))
            expect(result.hazards, explain(result)).toEqual([])
          },
        ),
        { numRuns: RUNS },
      )
    },
    20_000 + RUNS * 200,
  )

  it('[R59] a code block with a `|` in a cell stays code (it would split the row and free a link)', () => {
    const result = exports(
      documentOf(
        table([
          [cell('tableCell', [element('codeBlock', [text('x|y\n[z](javascript:alert(1))')])])],
          [cell('tableCell', [paragraph(text('[l](javascript:alert(2))|', { code: {} }))])],
        ]),
      ),
    )
    expect(result.hazards, explain(result)).toEqual([])
    expect(result.rendered).toContain('javascript')
    expect(scanner.anchors(result.rendered)).toEqual([])
  })
})
