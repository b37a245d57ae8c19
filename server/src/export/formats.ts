/** The formats of `GET /api/docs/:id/content` (SPEC R54, docs/PROTOCOL.md §3.1). */
export const EXPORT_FORMATS = ['json', 'html', 'markdown', 'text'] as const

export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  json: 'application/json',
  html: 'text/html',
  markdown: 'text/markdown',
  text: 'text/plain',
}

/** `?format=` values, with the usual short names. */
const FORMAT_NAMES: Record<string, ExportFormat> = {
  json: 'json',
  html: 'html',
  markdown: 'markdown',
  md: 'markdown',
  text: 'text',
  txt: 'text',
}

export type Negotiated = { readonly ok: true; readonly format: ExportFormat } | { readonly ok: false }

/**
 * `?format=` wins; otherwise the `Accept` media range with the highest q that we serve (ties go to
 * the order of EXPORT_FORMATS); otherwise JSON, as RFC 9110 §12.5.1 allows when nothing fits.
 * An unknown `format` is the caller's mistake and is refused.
 */
export function negotiateFormat(format: string | undefined, accept: string | undefined): Negotiated {
  if (format !== undefined) {
    const named = FORMAT_NAMES[format.toLowerCase()]
    return named ? { ok: true, format: named } : { ok: false }
  }
  let best: { format: ExportFormat; q: number } | null = null
  for (const range of (accept ?? '').split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    const qParam = params.find((param) => param.startsWith('q='))
    const q = qParam ? Number(qParam.slice(2)) : 1
    if (!(q > 0)) continue
    for (const candidate of EXPORT_FORMATS) {
      if (!matches(type, EXPORT_MEDIA_TYPES[candidate])) continue
      if (best === null || q > best.q) best = { format: candidate, q }
      // A wildcard stands for every format; the first (JSON) represents it.
      break
    }
  }
  return { ok: true, format: best?.format ?? 'json' }
}

function matches(range: string, mediaType: string): boolean {
  if (range === '*/*' || range === mediaType) return true
  return range.endsWith('/*') && mediaType.startsWith(range.slice(0, -1))
}
