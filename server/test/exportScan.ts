import { Window } from 'happy-dom'
import { Marked } from 'marked'

/**
 * What a reader's browser could run from an export (SPEC R54, issue 13), found the way the reader
 * gets there: Markdown through a real Markdown renderer (marked, GFM on, the renderer Tiptap itself
 * parses with), HTML through a real HTML parser (happy-dom), then every URL attribute read as a
 * browser reads it. Independent of the exporter's own code on purpose: it is the oracle.
 */
export class ExportScanner {
  readonly #window = new Window()
  // A stock instance: @tiptap/markdown registers its own tokenizers on the shared `marked`.
  readonly #marked = new Marked()

  /** Markdown as a Markdown renderer shows it, then `hazardsInHtml`. */
  hazardsInMarkdown(markdown: string): string[] {
    return this.hazardsInHtml(this.renderMarkdown(markdown))
  }

  renderMarkdown(markdown: string): string {
    return this.#marked.parse(markdown, { async: false })
  }

  /** Anchors of the HTML as a browser parses it: their text and their href as the browser reads it. */
  anchors(html: string): { text: string; href: string | null }[] {
    const document = new this.#window.DOMParser().parseFromString(html, 'text/html')
    return [...document.querySelectorAll('a')].map((anchor) => ({
      text: anchor.textContent,
      href: anchor.getAttribute('href'),
    }))
  }

  /**
   * Every way the HTML could run script: an element that loads or runs it, an event-handler
   * attribute, or a URL attribute with a script scheme (`hasScriptScheme`). Empty when it is inert.
   */
  hazardsInHtml(html: string): string[] {
    const document = new this.#window.DOMParser().parseFromString(html, 'text/html')
    const hazards: string[] = []
    for (const element of document.querySelectorAll('*')) {
      const name = element.tagName.toLowerCase()
      // The page's own `<meta charset="utf-8">` (R60) only names the encoding; any other meta
      // (`http-equiv` refresh, say) counts.
      const isCharsetOnly =
        name === 'meta' && element.attributes.length === 1 && element.hasAttribute('charset')
      if (ACTIVE_ELEMENTS.has(name) && !isCharsetOnly) hazards.push(`<${name}>`)
      for (const attribute of element.attributes) {
        const attributeName = attribute.name.toLowerCase()
        const value = attribute.value ?? ''
        if (attributeName.startsWith('on')) hazards.push(`<${name} ${attributeName}>`)
        if (
          URL_ATTRIBUTES.has(attributeName) &&
          hasScriptScheme(value, (text) => this.decodeReferences(text))
        )
          hazards.push(`<${name} ${attributeName}=${JSON.stringify(value)}>`)
      }
    }
    return hazards
  }

  /** Character references decoded as an HTML parser decodes them in an attribute. */
  decodeReferences(text: string): string {
    const textarea = this.#window.document.createElement('textarea')
    textarea.innerHTML = text.replace(/</g, '&lt;')
    return textarea.value
  }

  async close(): Promise<void> {
    await this.#window.happyDOM.close()
  }
}

const SCRIPT_SCHEMES = ['javascript:', 'vbscript:', 'data:']

const ACTIVE_ELEMENTS = new Set([
  'script',
  'iframe',
  'frame',
  'object',
  'embed',
  'base',
  'form',
  'meta',
  'link',
])

const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'srcset',
  'action',
  'formaction',
  'xlink:href',
  'poster',
  'background',
  'data',
  'cite',
  'ping',
])

/**
 * Whether a browser could run the URL (an attribute value, references already decoded by the
 * parser): its scheme as the WHATWG URL parser reads it, which drops leading and trailing controls
 * and spaces and every tab and line ending, and, stricter than any browser, its scheme once
 * percent-escapes and character references are undone again and again and every space, control and
 * invisible character is gone.
 */
export function hasScriptScheme(value: string, decodeReferences?: (text: string) => string): boolean {
  let parsed: URL | null = null
  try {
    parsed = new URL(value, 'https://export.invalid/')
  } catch {
    // Not a URL a browser would follow.
  }
  if (parsed && SCRIPT_SCHEMES.includes(parsed.protocol)) return true
  let decoded = value
  for (let round = 0; round < 8; round++) {
    const percentDecoded = decoded.replace(/%([0-7][0-9a-f])/gi, (_escape, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    )
    const next = (decodeReferences ? decodeReferences(percentDecoded) : percentDecoded).replace(
      /[\s\p{Cc}\p{Cf}]/gu,
      '',
    )
    if (next === decoded) break
    decoded = next
  }
  return SCRIPT_SCHEMES.some((scheme) => decoded.toLowerCase().startsWith(scheme))
}
