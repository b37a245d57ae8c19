/**
 * Link targets in exports (SPEC R54): which hrefs keep their target, and how a kept one is written
 * into Markdown. Pure string functions; the exporter applies them to HTML and Markdown alike.
 */

/**
 * Schemes a link keeps: the Link extension's own list, so an export links what the editor links.
 * None of them runs script; everything else (javascript:, data:, vbscript:, blob:, file:, ...) loses
 * its target. A URL without a scheme (relative, `#anchor`, `//host/path`) keeps it, as in the editor.
 */
export const LINK_SCHEMES: ReadonlySet<string> = new Set([
  'http',
  'https',
  'ftp',
  'ftps',
  'mailto',
  'tel',
  'callto',
  'sms',
  'cid',
  'xmpp',
])

/**
 * The target a link keeps in an export, or null when it loses it (R54): the href as a browser
 * would follow it (see `browserNormalized`), kept only if its scheme, read after undoing every
 * encoding a renderer or a browser might apply, is in LINK_SCHEMES or absent. Deciding on the
 * decoded form is what makes `&#106;avascript:`, `javascript&colon;` and `%6Aavascript:` lose
 * their target: a Markdown renderer decodes the references, so the raw text is not what is linked.
 */
export function linkTarget(href: unknown): string | null {
  if (typeof href !== 'string') return null
  const target = browserNormalized(href)
  if (target === '') return null
  const decoded = fullyDecoded(target)
  if (decoded === null) return null
  const scheme = SCHEME.exec(decoded)?.[1]?.toLowerCase()
  return scheme === undefined || LINK_SCHEMES.has(scheme) ? target : null
}

/**
 * The source an image keeps in a Markdown export (R59), or null: like `linkTarget`, but only an
 * absolute http or https URL, as the editor's image dialog accepts. A relative source would load
 * from wherever the Markdown is shown.
 */
export function imageTarget(src: unknown): string | null {
  const target = linkTarget(src)
  if (target === null) return null
  const scheme = SCHEME.exec(fullyDecoded(target) ?? '')?.[1]?.toLowerCase()
  return scheme === 'http' || scheme === 'https' ? target : null
}

/**
 * A kept target (from `linkTarget`) as a Markdown link destination that ends where we end it:
 * everything that ends or opens a destination or a title (spaces, controls, line endings, `(`,
 * `)`, `<`, `>`, `"`) is percent-encoded, as a browser would encode it in a path anyway; `\` and
 * `|` (a GFM table cell ends at a bare one) are backslash-escaped and `&` written as `&amp;`, so
 * the renderer links exactly the target (it undoes escapes and character references in a
 * destination: CommonMark, "Links"). Otherwise an href holding `)[y](javascript:...)` ends the link
 * early and opens a live one (issue 13).
 */
export function markdownDestination(target: string): string {
  let destination = ''
  for (const char of target) {
    if (char === '\\' || char === '|') destination += `\\${char}`
    else if (char === '&') destination += '&amp;'
    else if (ENDS_DESTINATION.test(char)) destination += percentEncoded(char)
    else destination += char
  }
  return destination
}

/**
 * A link title for `[text](destination "title")`, or null for none: one line (a blank line would
 * end the paragraph mid-title and leave the rest as live Markdown) with every ASCII punctuation
 * character backslash-escaped (CommonMark, "Backslash escapes"), so the title ends at our closing
 * quote, reads as written, and stays inert even where a GFM table row splits it at a `|`.
 */
export function markdownTitle(title: unknown): string | null {
  if (typeof title !== 'string') return null
  const line = title.replace(/[\r\n]+/g, ' ').trim()
  return line === '' ? null : line.replace(/[!-/:-@[-`{-~]/g, '\\$&')
}

/** WHATWG URL: a scheme is an ASCII letter, then letters, digits, `+`, `-`, `.`, then `:`. */
const SCHEME = /^([a-z][a-z0-9+.-]*):/i

/** What a Markdown destination cannot hold as it is (CommonMark, "link destination"), and look-alikes. */
const ENDS_DESTINATION = /[\s\p{Cc}\p{Cf}()<>"`]/u

/** UTF-8 `%XX` escapes; encodeURIComponent would leave `(` and `)` as they are. */
function percentEncoded(char: string): string {
  let escapes = ''
  for (const byte of new TextEncoder().encode(char))
    escapes += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  return escapes
}

/**
 * The href a browser follows: the URL parser drops leading and trailing C0 controls and spaces
 * and every tab and line ending inside (WHATWG URL, basic URL parser).
 */
function browserNormalized(href: string): string {
  let start = 0
  let end = href.length
  while (start < end && href.charCodeAt(start) <= 0x20) start++
  while (end > start && href.charCodeAt(end - 1) <= 0x20) end--
  return href.slice(start, end).replace(/[\t\n\r]/g, '')
}

/** Rounds of decoding before a still-changing href is refused rather than trusted. */
const MAX_DECODE_ROUNDS = 4

/**
 * The href with character references and percent-escapes undone, repeatedly (a reference can be
 * encoded again: `&amp;#106;`), and with every control, space and invisible format character
 * removed, so that none of them can hide a scheme from the check. Stricter than any one browser
 * or renderer: a URL it misreads loses its target, never the other way round. Null when it keeps
 * changing after MAX_DECODE_ROUNDS.
 */
function fullyDecoded(href: string): string | null {
  let current = href
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = decodePercentEscapes(decodeCharacterReferences(current)).replace(INVISIBLE, '')
    if (next === current) return current
    current = next
  }
  return null
}

const INVISIBLE = /[\s\p{Cc}\p{Cf}]/gu

/**
 * The named character references that decode to ASCII characters (from HTML's list); every other
 * one decodes to a non-ASCII character. Matched without regard to case: over-decoding only makes
 * the check stricter.
 */
const NAMED_REFERENCES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    tab: '\t',
    newline: '\n',
    excl: '!',
    quot: '"',
    num: '#',
    dollar: '$',
    percnt: '%',
    amp: '&',
    apos: "'",
    lpar: '(',
    rpar: ')',
    ast: '*',
    midast: '*',
    plus: '+',
    comma: ',',
    period: '.',
    sol: '/',
    colon: ':',
    semi: ';',
    lt: '<',
    equals: '=',
    gt: '>',
    quest: '?',
    commat: '@',
    lsqb: '[',
    lbrack: '[',
    bsol: '\\',
    rsqb: ']',
    rbrack: ']',
    hat: '^',
    lowbar: '_',
    underbar: '_',
    grave: '`',
    diacriticalgrave: '`',
    lcub: '{',
    lbrace: '{',
    verbar: '|',
    vert: '|',
    verticalline: '|',
    rcub: '}',
    rbrace: '}',
    fjlig: 'fj',
  }),
)

/**
 * Numeric references, with or without the `;` (browsers accept both), and NAMED_REFERENCES, also
 * as the start of a longer name (`&ampcolon;`: a browser reads some names without their `;`). Any
 * other named reference is removed: it would decode to a non-ASCII character, which ends a scheme
 * for a browser, while removing it can only join one. Stricter, never laxer.
 */
function decodeCharacterReferences(text: string): string {
  return text.replace(
    /&(?:#(\d+)|#x([0-9a-f]+)|([a-z][a-z0-9]*))(;?)/gi,
    (_reference, decimal, hex, name, semicolon: string) => {
      if (typeof name === 'string') return decodeName(name, semicolon)
      const codePoint = Number.parseInt(typeof hex === 'string' ? hex : String(decimal), hex ? 16 : 10)
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd'
    },
  )
}

function decodeName(name: string, semicolon: string): string {
  for (let length = name.length; length > 0; length--) {
    const decoded = NAMED_REFERENCES.get(name.slice(0, length).toLowerCase())
    if (decoded !== undefined)
      return length === name.length ? decoded : decoded + name.slice(length) + semicolon
  }
  return ''
}

/** `%XX` escapes of ASCII characters: the only ones that can spell a scheme. */
function decodePercentEscapes(text: string): string {
  return text.replace(/%([0-7][0-9a-f])/gi, (_escape, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  )
}
