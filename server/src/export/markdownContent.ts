import {
  Node,
  type Extensions,
  type JSONContent,
  type MarkdownRendererHelpers,
  type RenderContext,
} from '@tiptap/core'
import { imageTarget, linkTarget, markdownDestination, markdownTitle } from './linkTargets.ts'

/**
 * Safe Markdown from Tiptap's serializer (SPEC R54, issue 13). Tiptap escapes plain text but writes
 * link targets, link titles and code as they are, so a stock client could end a link, a title, a
 * code span or a code fence early and leave the rest as live Markdown: `[y](javascript:...)`.
 * `markdownContent` rewrites the (schema-conforming) content into nodes that
 * MARKDOWN_SAFETY_EXTENSIONS render so that nothing a client wrote can end its construct. Every
 * other node keeps Tiptap's own rendering.
 */

const LINK = 'tandemMarkdownLink'
const CODE_SPAN = 'tandemMarkdownCodeSpan'
const ESCAPED = 'tandemMarkdownEscaped'
const CODE_FENCE = 'tandemMarkdownCodeFence'
const IMAGE = 'tandemMarkdownImage'
const TABLE = 'tandemMarkdownTable'
const TABLE_CELL = 'tandemMarkdownTableCell'
const CELL_BREAK = 'tandemMarkdownCellBreak'

type JSONMark = NonNullable<JSONContent['marks']>[number]

/**
 * The content as Markdown should see it. A run of inline nodes under one link mark becomes a LINK
 * holding them, with its target and title written for `[text](destination "title")`; a link that
 * loses its target (`linkTarget`) leaves its nodes in place, unlinked. Code marks and code blocks
 * become CODE_SPAN and CODE_FENCE. Expects `conformToSchema`'s output: code text carries no other
 * mark, so no code span sits inside a link, and code blocks hold only text.
 */
export function markdownContent(node: JSONContent): JSONContent {
  if (node.type === 'table') return markdownTable(node)
  if (node.type === 'image') return markdownImage(node)
  if (node.type === 'hardBreak' && node.attrs?.[IN_CELL] === true) return { type: CELL_BREAK }
  if (node.type === 'text' && node.marks?.some((mark) => mark.type === 'code'))
    return { type: CODE_SPAN, attrs: { text: node.text ?? '' } }
  if (node.type === 'codeBlock') {
    const text = (node.content ?? []).map((child) => child.text ?? '').join('')
    return { type: CODE_FENCE, attrs: { text, language: node.attrs?.language as unknown } }
  }
  return {
    ...node,
    ...(node.type === 'heading' ? { attrs: { ...node.attrs, level: headingLevel(node.attrs?.level) } } : {}),
    ...(node.type === 'orderedList' ? { attrs: orderedListAttrs(node) } : {}),
    ...(node.content ? { content: linkRuns(node.content.map(markdownContent)) } : {}),
  }
}

/** Renders the nodes `markdownContent` introduces; add them to the MarkdownManager's extensions. */
export const MARKDOWN_SAFETY_EXTENSIONS: Extensions = [
  Node.create({
    name: LINK,
    renderMarkdown: (node: JSONContent, helpers: MarkdownRendererHelpers) =>
      markdownLink(helpers.renderChildren(node.content ?? []), node.attrs?.destination, node.attrs?.title),
  }),
  Node.create({
    name: ESCAPED,
    renderMarkdown: (node: JSONContent) => String(node.attrs?.text ?? '').replace(ASCII_PUNCTUATION, '\\$&'),
  }),
  Node.create({
    name: CODE_SPAN,
    renderMarkdown: (node: JSONContent) => codeSpan(String(node.attrs?.text ?? '')),
  }),
  Node.create({
    name: CODE_FENCE,
    renderMarkdown: (node: JSONContent, _helpers: unknown, context: RenderContext) =>
      codeFence(String(node.attrs?.text ?? ''), node.attrs?.language, context.parentType),
  }),
  Node.create({
    name: IMAGE,
    renderMarkdown: (node: JSONContent) => imageMarkdown(node.attrs ?? {}),
  }),
  Node.create({
    name: TABLE,
    renderMarkdown: (node: JSONContent, helpers: MarkdownRendererHelpers, context: RenderContext) =>
      tableMarkdown(node, helpers, context.parentType),
  }),
  Node.create({
    name: TABLE_CELL,
    renderMarkdown: (node: JSONContent, helpers: MarkdownRendererHelpers) =>
      cellMarkdown(helpers.renderChildren(node.content ?? [])),
  }),
  Node.create({ name: CELL_BREAK, renderMarkdown: () => '<br>' }),
]

// ---------------------------------------------------------------------------------------------
// Images and tables (R59)
// ---------------------------------------------------------------------------------------------

/**
 * An image as `![alt](destination "title")`: only an absolute http(s) source (`imageTarget`) is
 * kept, written as a link destination is; the alt text as character references, on one line, so
 * it ends at our `]`; the title as a link title. An image that loses its source keeps its alt text,
 * escaped, as text.
 */
function markdownImage(node: JSONContent): JSONContent {
  const target = imageTarget(node.attrs?.src)
  return {
    type: IMAGE,
    attrs: {
      destination: target === null ? null : markdownDestination(target),
      alt: typeof node.attrs?.alt === 'string' ? node.attrs.alt : '',
      title: markdownTitle(node.attrs?.title),
    },
  }
}

function imageMarkdown(attrs: Record<string, unknown>): string {
  const alt = (typeof attrs.alt === 'string' ? attrs.alt : '').replace(/\s+/g, ' ').trim()
  if (typeof attrs.destination !== 'string') return alt.replace(ASCII_PUNCTUATION, '\\$&')
  const title = typeof attrs.title === 'string' ? ` "${attrs.title}"` : ''
  return `![${alt.replace(ASCII_PUNCTUATION, characterReference)}](${attrs.destination}${title})`
}

/** Marks a hard break that sits in a table cell: there it is written `<br>`, as a cell is one line. */
const IN_CELL = 'tandemInCell'

/**
 * A table as a GFM table. A GFM cell holds one line of inline Markdown, so each cell's blocks are
 * flattened (`cellInline`) into their inline content, separated by `<br>`, with code blocks as
 * code spans. The first row is the header when it holds a header cell, else the header is empty.
 * Spans are not written (each cell is one column).
 */
function markdownTable(node: JSONContent): JSONContent {
  const rows = (node.content ?? []).map((row) =>
    (row.content ?? []).map((cell): JSONContent => ({
      type: TABLE_CELL,
      attrs: { isHeader: cell.type === 'tableHeader' },
      content: markdownContent({ type: 'paragraph', content: cellInline(cell) }).content ?? [],
    })),
  )
  return { type: TABLE, attrs: { rows: rows.map((cells) => cells.length) }, content: rows.flat() }
}

/** The inline content of a cell's blocks, in order, with a break between blocks. */
function cellInline(cell: JSONContent): JSONContent[] {
  const inline: JSONContent[] = []
  const lineBreak = { type: 'hardBreak', attrs: { [IN_CELL]: true } }
  const visit = (block: JSONContent): void => {
    switch (block.type ?? '') {
      case 'paragraph':
      case 'heading':
        if (inline.length > 0) inline.push(lineBreak)
        for (const child of block.content ?? []) inline.push(child.type === 'hardBreak' ? lineBreak : child)
        return
      case 'codeBlock': {
        if (inline.length > 0) inline.push(lineBreak)
        const text = (block.content ?? []).map((child) => child.text ?? '').join('')
        if (text !== '') inline.push({ type: 'text', text, marks: [{ type: 'code' }] })
        return
      }
      case 'image':
        if (inline.length > 0) inline.push(lineBreak)
        inline.push(block)
        return
      default:
        for (const child of block.content ?? []) visit(child)
    }
  }
  for (const block of cell.content ?? []) visit(block)
  return inline
}

/**
 * The rows, each `| a | b |`. The header and delimiter rows are as wide as the widest row; other
 * rows are not padded (a GFM renderer pads them), so the work stays linear in the cells however
 * the widths differ. Outside the document and blockquotes it opens with a blank line, as a
 * code fence does (`codeFence`).
 */
function tableMarkdown(
  node: JSONContent,
  helpers: MarkdownRendererHelpers,
  parentType: string | null | undefined,
): string {
  const counts = Array.isArray(node.attrs?.rows) ? (node.attrs.rows as number[]) : []
  const cells = node.content ?? []
  const rows: { cells: string[]; hasHeader: boolean }[] = []
  let next = 0
  for (const count of counts) {
    const row = cells.slice(next, next + count)
    next += count
    rows.push({
      cells: row.map((cell) => helpers.renderChildren([cell])),
      hasHeader: row.some((cell) => cell.attrs?.isHeader === true),
    })
  }
  const columns = Math.max(1, ...rows.map((row) => row.cells.length))
  const header = rows[0]?.hasHeader ? (rows.shift()?.cells ?? []) : []
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`
  const padded = (row: readonly string[]) => [...row, ...Array<string>(columns - row.length).fill('')]
  const lines = [
    line(padded(header)),
    line(Array<string>(columns).fill('---')),
    ...rows.map((row) => line(row.cells)),
  ]
  const separator = parentType === 'doc' || parentType === 'blockquote' ? '' : '\n'
  return separator + lines.join('\n')
}

/**
 * A cell's inline Markdown as one GFM cell: line endings become spaces (a line ending would end
 * the row) and every `|` not already escaped is escaped (a bare one ends the cell, splitting a
 * code span or a link). Escapes are read left to right, as a GFM renderer reads them: a `\`
 * escapes the character after it. Tiptap escapes `\` in text, and the constructs
 * `markdownContent` writes escape or encode theirs, so every other `|` comes from text.
 */
function cellMarkdown(markdown: string): string {
  const line = markdown.replace(/\r\n?|\n/g, ' ').trim()
  let cell = ''
  for (let index = 0; index < line.length; index++) {
    const char = line[index] ?? ''
    if (char === '\\') {
      cell += char + (line[index + 1] ?? '')
      index++
    } else cell += char === '|' ? '\\|' : char
  }
  return cell
}

/** Groups neighbours that carry the same link mark (same href and title) into one LINK. */
function linkRuns(children: JSONContent[]): JSONContent[] {
  const grouped: JSONContent[] = []
  let run: { link: JSONMark; nodes: JSONContent[] } | null = null
  const flush = () => {
    if (run === null) return
    const target = linkTarget(run.link.attrs?.href)
    if (target === null) grouped.push(...run.nodes)
    else {
      escapeTrailingBang(grouped)
      grouped.push({
        type: LINK,
        attrs: { destination: markdownDestination(target), title: markdownTitle(run.link.attrs?.title) },
        content: run.nodes,
      })
    }
    run = null
  }
  for (const child of children) {
    const link = child.marks?.find((mark) => mark.type === 'link')
    if (!link) {
      flush()
      grouped.push(child)
      continue
    }
    const unlinked = { ...child, marks: child.marks?.filter((mark) => mark !== link) }
    if (run !== null && sameAttrs(run.link, link)) run.nodes.push(unlinked)
    else {
      flush()
      run = { link, nodes: [unlinked] }
    }
  }
  flush()
  return grouped
}

/**
 * Text ending in `!` right before a link (`Wow![here](...)`) makes it an image, which loads its
 * target when the Markdown is shown: the `!` is written escaped. Only unmarked text ends right
 * before the link; a mark's closing delimiter would come between.
 */
function escapeTrailingBang(grouped: JSONContent[]): void {
  const previous = grouped.at(-1)
  const text = previous?.type === 'text' && !previous.marks?.length ? (previous.text ?? '') : ''
  if (!text.endsWith('!')) return
  grouped.pop()
  if (text.length > 1) grouped.push({ ...previous, text: text.slice(0, -1) })
  grouped.push({ type: ESCAPED, attrs: { text: '!' } })
}

function sameAttrs(a: JSONMark, b: JSONMark): boolean {
  return a.attrs?.href === b.attrs?.href && a.attrs?.title === b.attrs?.title
}

/**
 * `[text](destination "title")` with destination and title already written (`markdownDestination`,
 * `markdownTitle`) and the text as Tiptap escapes it, except that every backslash escape becomes a
 * character reference: marked (the renderer Tiptap parses with) reads `\[y\](javascript:...)`
 * inside link text as a link of its own, though CommonMark says an escaped bracket is text.
 */
function markdownLink(text: string, destination: unknown, title: unknown): string {
  const label = text.replace(/\\([!-/:-@[-`{-~])/g, (_escape, char: string) => characterReference(char))
  return `[${label}](${String(destination)}${typeof title === 'string' ? ` "${title}"` : ''})`
}

/**
 * Tiptap writes `'#'.repeat(level)`: a level of 1e9 throws, one of 7 is no heading. The Heading
 * extension's levels; anything else renders as level 1, as it does in HTML.
 */
function headingLevel(level: unknown): number {
  return typeof level === 'number' && Number.isInteger(level) && level >= 1 && level <= 6 ? level : 1
}

/**
 * Numbers Markdown can write: a start from 0 whose last item still has at most 9 digits
 * (CommonMark, "List items"), else 1; no `type`. Tiptap writes `type` a/A/i/I as letters and Roman
 * numerals, which Markdown does not read as a list, and counts Roman numerals up one numeral at a
 * time: `type: 'I', start: 1e15` (or Infinity) would hold the server in that loop.
 */
function orderedListAttrs(node: JSONContent): Record<string, unknown> {
  const start: unknown = node.attrs?.start
  const last = (node.content?.length ?? 1) - 1
  const isWritable =
    typeof start === 'number' && Number.isSafeInteger(start) && start >= 0 && start + last <= 999_999_999
  return { ...node.attrs, start: isWritable ? start : 1, type: null }
}

/**
 * Inline code that stays inert even where a renderer misreads it. Tiptap writes `` `code` `` as it
 * is, and marked misreads backtick spans in more ways than one: a GFM autolink right before the
 * span swallows its opening backtick, runs of backticks inside pair up wrongly, and a GFM table
 * (formed by a later line of the paragraph, `-|-` or even `:-`) splits the span at a `|`. Each
 * leaves the code as live Markdown. So a backtick span holds only code that is harmless as
 * Markdown (no `[`, `]`, `<`, `>`, `\`, backtick or `|`); other code is written as `<code>`
 * with every ASCII punctuation character as a character reference, which no renderer reads as
 * syntax. Line endings become spaces, as a renderer shows them in a code span anyway.
 */
function codeSpan(text: string): string {
  const content = text.replace(/\r\n?|\n/g, ' ')
  if (/[[\]<>\\`|]/.test(content))
    return `<code>${content.replace(ASCII_PUNCTUATION, characterReference)}</code>`
  // CommonMark strips one space from each end of a span that has one at both.
  const pad = /^ .*[^ ].* $/.test(content) ? ' ' : ''
  return `\`${pad}${content}${pad}\``
}

/**
 * A fenced code block whose fence nothing inside can close: longer than any run of backticks in the
 * code (at least three), with line endings as `\n` (Tiptap indents a nested block line by line,
 * split at `\n`; a bare `\r` would start a line it did not indent, outside the list) and an info string
 * only when the language is a plain word (a backtick or a line ending in it would unmake the fence).
 *
 * Outside the document and blockquotes (which separate blocks with a blank line) it opens with a
 * blank line: a list item puts it right under a paragraph, and text that reshapes that paragraph
 * (an ordered list marker Markdown does not know, a `-|-` line) could make a 4-space-indented
 * fence a lazy continuation line, its code live Markdown. After a blank line a fence is a fence,
 * or, indented 4 or more, an indented code block whose lines (all indented alike) stay code.
 */
function codeFence(text: string, language: unknown, parentType: string | null | undefined): string {
  const content = text.replace(/\r\n?/g, '\n')
  const fence = '`'.repeat(Math.max(3, longestRun(content, '`') + 1))
  const info = typeof language === 'string' && /^[\w+#.-]{1,64}$/.test(language) ? language : ''
  const separator = parentType === 'doc' || parentType === 'blockquote' ? '' : '\n'
  return `${separator}${fence}${info}\n${content}\n${fence}`
}

const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g

function characterReference(char: string): string {
  return `&#${char.charCodeAt(0)};`
}

function longestRun(text: string, char: string): number {
  let longest = 0
  let run = 0
  for (const each of text) {
    run = each === char ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  return longest
}
